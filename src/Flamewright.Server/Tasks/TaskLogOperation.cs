namespace Flamewright.Server.Tasks;

/// <summary>
/// What happened to a task on one instance: SkyWalking's <c>PprofTaskLogOperationType</c> (docs/protocol.md, "Task
/// log and instance states"). Stored as these numbers; a test pins them.
/// </summary>
#pragma warning disable CA1707 // The names are SkyWalking's GraphQL enum values.
public enum TaskLogOperation
{
    /// <summary>The task was delivered to the instance's agent (once per delivery).</summary>
    NOTIFIED = 0,

    /// <summary>The upload parsed and was stored.</summary>
    EXECUTION_FINISHED = 1,

    /// <summary>The upload was larger than the limit, declared or received; nothing was stored.</summary>
    PPROF_UPLOAD_FILE_TOO_LARGE_ERROR = 2,

    /// <summary>The agent could not profile, or its profile did not parse; the reason is kept.</summary>
    EXECUTION_TASK_ERROR = 3,
}
#pragma warning restore CA1707
