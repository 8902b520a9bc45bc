package dev.faultline.collector.workload;

/** A workload that cannot run as asked (a combination the kernel refuses, too little memory): one line saying why. */
public final class WorkloadException extends RuntimeException {
    public WorkloadException(String message) {
        super(message);
    }

    public WorkloadException(String message, Throwable cause) {
        super(message, cause);
    }
}
