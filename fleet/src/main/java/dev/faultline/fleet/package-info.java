/**
 * The fleet job on Apache Spark: Parquet exported by {@code faultline export} from many hosts,
 * aggregated per slice (kernel, host, or any column) into faultline summary files that
 * {@code faultline analyze} and {@code compare} read, with HdrHistograms built per partition and
 * merged ({@link dev.faultline.fleet.FaultAggregator}), and a fleet compare of two slices by the
 * same rules as {@code faultline compare} ({@link dev.faultline.fleet.FleetJob}).
 */
package dev.faultline.fleet;
