package dev.faultline.collector.passive;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * A minimal client of QEMU's machine protocol (QMP) on a unix socket: the greeting, capability
 * negotiation, then one command at a time, each answer awaited with a timeout. Asynchronous
 * events QEMU sends in between are skipped.
 *
 * <p>A QMP socket serves one client at a time: point this at a socket of its own
 * ({@code -qmp unix:/run/qemu-faultline.sock,server=on,wait=off}) when another client holds the main one.
 */
public final class QmpClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final SocketChannel channel;
    private final Selector selector;
    private final long timeoutMillis;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);

    private QmpClient(Path path, SocketChannel channel, Selector selector, long timeoutMillis) {
        this.path = path;
        this.channel = channel;
        this.selector = selector;
        this.timeoutMillis = timeoutMillis;
        buffer.flip();
    }

    /**
     * Connects and negotiates capabilities.
     *
     * @throws IOException in one line: no socket, refused, no greeting within the timeout
     */
    public static QmpClient connect(Path socket, long timeoutMillis) throws IOException {
        SocketChannel ch;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw new IOException("cannot connect to QMP socket " + socket + ": " + e.getMessage(), e);
        }
        ch.configureBlocking(false);
        Selector sel = Selector.open();
        ch.register(sel, SelectionKey.OP_READ);
        QmpClient q = new QmpClient(socket, ch, sel, timeoutMillis);
        try {
            JsonNode greeting = q.next();
            if (!greeting.has("QMP")) {
                throw new IOException(socket + " is not a QMP socket (its first message: " + greeting + ")");
            }
            q.execute("qmp_capabilities", Map.of());
            return q;
        } catch (IOException | RuntimeException e) {
            q.close();
            throw e;
        }
    }

    /**
     * Runs {@code command} with {@code arguments} and returns its {@code return} value.
     *
     * @throws IOException if QEMU answers with an error (its description) or not within the timeout
     */
    public JsonNode execute(String command, Map<String, ?> arguments) throws IOException {
        ObjectNode msg = JSON.createObjectNode().put("execute", command);
        if (!arguments.isEmpty()) {
            msg.set("arguments", JSON.valueToTree(arguments));
        }
        ByteBuffer out = ByteBuffer.wrap((JSON.writeValueAsString(msg) + "\n").getBytes(StandardCharsets.UTF_8));
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (out.hasRemaining()) {
            if (channel.write(out) == 0 && System.currentTimeMillis() > deadline) {
                throw new IOException("QMP " + command + " on " + path + ": could not send within " + timeoutMillis + " ms");
            }
        }
        while (true) {
            JsonNode answer = next();
            if (answer.has("return")) {
                return answer.get("return");
            }
            if (answer.has("error")) {
                throw new IOException("QMP " + command + " on " + path + ": " + answer.get("error").path("desc").asText(answer.toString()));
            }
            // an event: not ours
        }
    }

    /** The human monitor's answer to {@code commandLine} (e.g. "info ramblock"), as text. */
    public String human(String commandLine) throws IOException {
        return execute("human-monitor-command", Map.of("command-line", commandLine)).asText();
    }

    private JsonNode next() throws IOException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (true) {
            while (buffer.hasRemaining()) {
                byte b = buffer.get();
                if (b == '\n') {
                    String text = line.toString(StandardCharsets.UTF_8).strip();
                    line.reset();
                    if (!text.isEmpty()) {
                        return JSON.readTree(text);
                    }
                } else {
                    line.write(b);
                }
            }
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                throw new IOException("QMP on " + path + ": no answer within " + timeoutMillis + " ms");
            }
            selector.select(left);
            buffer.clear();
            int n = channel.read(buffer);
            buffer.flip();
            if (n < 0) {
                throw new IOException("QMP on " + path + ": QEMU closed the connection");
            }
        }
    }

    @Override
    public void close() throws IOException {
        try {
            selector.close();
        } finally {
            channel.close();
        }
    }
}
