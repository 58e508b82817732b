namespace Flamewright.Server.Tasks;

/// <summary>A pprof task: what to profile, on which instances of one service, and until when agents get it.</summary>
/// <param name="Id"><c>createTime_serviceId</c>.</param>
/// <param name="Duration">Minutes, for CPU, BLOCK and MUTEX; <c>null</c> otherwise.</param>
/// <param name="DumpPeriod">Block profile rate (ns) or mutex profile fraction, for BLOCK and MUTEX.</param>
/// <param name="CreateTime">Epoch milliseconds; also the agent's <c>lastCommandTime</c> once it took the task.</param>
/// <param name="DispatchUntil">Epoch milliseconds after which agents no longer receive the task.</param>
public sealed record ProfilingTask(
    string Id,
    string ServiceId,
    IReadOnlyList<string> InstanceIds,
    PprofEvent Event,
    int? Duration,
    int? DumpPeriod,
    long CreateTime,
    long DispatchUntil)
{
    /// <summary>When the profiling itself ends (create + duration): the ALREADY_PROFILING rule's horizon.</summary>
    public long ProfilingUntil => CreateTime + (Event.HasDuration() ? (Duration ?? 0) * 60_000L : 0);
}

/// <summary>One entry of a task's progress log.</summary>
/// <param name="Message">The reason of an error: the agent's error text or the parser's message.</param>
public sealed record TaskLog(
    string TaskId,
    string InstanceId,
    string InstanceName,
    TaskLogOperation Operation,
    long OperationTime,
    string? Message);
