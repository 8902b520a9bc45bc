package dev.faultline.cli;

import dev.faultline.core.region.Backend;
import picocli.CommandLine;

/** Parses a backend name for an option: anon, shmem, hugetlb2m, hugetlb1g, guest_memfd. */
final class BackendConverter implements CommandLine.ITypeConverter<Backend> {
    @Override
    public Backend convert(String value) {
        try {
            return Backend.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
