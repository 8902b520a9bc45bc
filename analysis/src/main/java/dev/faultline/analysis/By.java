package dev.faultline.analysis;

import java.util.Locale;

/** The optional extra dimension faults are split by, beyond ioctl × page size × backend. */
public enum By {
    NONE, THREAD, RUN, REGION, MODE;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
