package dev.faultline.core.bpf;

/**
 * A BPF object that could not be opened, loaded or attached, or a map operation that failed. The
 * message is one line: what was attempted, the errno by name, and where the kernel's verifier
 * refused a program, its last words.
 */
public class BpfException extends RuntimeException {
    public BpfException(String message) {
        super(message);
    }
}
