namespace Flamewright.Server.Tasks;

/// <summary>
/// What a pprof task profiles. The names are SkyWalking's GraphQL enum values and are stored as text; the
/// numbers are pinned by a test because nothing should depend on them silently changing.
/// </summary>
public enum PprofEvent
{
    CPU = 0,
    HEAP = 1,
    BLOCK = 2,
    MUTEX = 3,
    GOROUTINE = 4,
    THREADCREATE = 5,
    ALLOCS = 6,
}

/// <summary>Facts about each event: whether it runs for a duration, and which sample type weighs its flame graph.</summary>
public static class PprofEvents
{
    /// <summary>CPU, BLOCK and MUTEX run for a duration; the others are snapshots.</summary>
    public static bool HasDuration(this PprofEvent e) => e is PprofEvent.CPU or PprofEvent.BLOCK or PprofEvent.MUTEX;

    /// <summary>BLOCK and MUTEX need a dumpPeriod (block profile rate, mutex profile fraction).</summary>
    public static bool HasDumpPeriod(this PprofEvent e) => e is PprofEvent.BLOCK or PprofEvent.MUTEX;

    /// <summary>The event as the agent command spells it: lower case.</summary>
    public static string CommandName(this PprofEvent e) => e.ToString().ToLowerInvariant();

    /// <summary>
    /// The sample type that answers the question the event asks: time on CPU, memory in use, memory allocated,
    /// time waited, goroutines, threads. The reference counts records instead, so HEAP and ALLOCS looked the same.
    /// </summary>
    public static string NaturalSampleType(this PprofEvent e) => e switch
    {
        PprofEvent.CPU => "cpu",
        PprofEvent.HEAP => "inuse_space",
        PprofEvent.ALLOCS => "alloc_space",
        PprofEvent.BLOCK or PprofEvent.MUTEX => "delay",
        PprofEvent.GOROUTINE => "goroutine",
        PprofEvent.THREADCREATE => "threadcreate",
        _ => throw new ArgumentOutOfRangeException(nameof(e), e, null),
    };
}
