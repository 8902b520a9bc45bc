package dev.faultline.fleet;

import org.apache.spark.sql.Encoder;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.expressions.Aggregator;
import scala.Tuple5;

/**
 * Spark's aggregate of fault rows into one {@link GroupFaults} per group: each partition builds its
 * own histograms, Spark merges the partial states, and the result is the state's encoding. Input
 * columns, in order: t_fault, t_read, t_resolve_end, t_wake (nullable ns) and page_size.
 */
public final class FaultAggregator extends Aggregator<Tuple5<Long, Long, Long, Long, Integer>, GroupFaults, byte[]> {
    private static final long serialVersionUID = 1L;

    /** The encoder of the input columns, for {@code functions.udaf}. */
    public static Encoder<Tuple5<Long, Long, Long, Long, Integer>> input() {
        return Encoders.tuple(Encoders.LONG(), Encoders.LONG(), Encoders.LONG(), Encoders.LONG(), Encoders.INT());
    }

    @Override
    public GroupFaults zero() {
        return new GroupFaults();
    }

    @Override
    public GroupFaults reduce(GroupFaults state, Tuple5<Long, Long, Long, Long, Integer> row) {
        state.add(time(row._1()), time(row._2()), time(row._3()), time(row._4()), row._5() == null ? 0 : row._5());
        return state;
    }

    private static long time(Long t) {
        return t == null ? GroupFaults.UNKNOWN : t;
    }

    @Override
    public GroupFaults merge(GroupFaults a, GroupFaults b) {
        return a.merge(b);
    }

    @Override
    public byte[] finish(GroupFaults state) {
        return state.encode();
    }

    @Override
    public Encoder<GroupFaults> bufferEncoder() {
        return Encoders.javaSerialization(GroupFaults.class);
    }

    @Override
    public Encoder<byte[]> outputEncoder() {
        return Encoders.BINARY();
    }
}
