namespace Flamewright.Server.Tasks;

/// <summary>Where a task stands on one instance.</summary>
public enum InstanceTaskState
{
    /// <summary>The agent has not asked for the task yet.</summary>
    Pending,

    /// <summary>The agent received the task; no result yet.</summary>
    Notified,

    /// <summary>A profile was uploaded, parsed and stored.</summary>
    Finished,

    /// <summary>The agent reported an error, the upload was too large, or it did not parse.</summary>
    Failed,
}

/// <summary>One instance's state, with the reason when it failed.</summary>
public sealed record InstanceProgress(string InstanceId, string InstanceName, InstanceTaskState State, string? Reason, long? Since);

/// <summary>
/// A task's state per instance, derived from its log in one place: the latest result wins (an agent that
/// restarted and uploaded again replaces its earlier result), a delivery alone makes an instance notified.
/// </summary>
public sealed class TaskProgress
{
    private TaskProgress(ProfilingTask task, IReadOnlyList<TaskLog> logs, IReadOnlyList<InstanceProgress> instances)
    {
        Task = task;
        Logs = logs;
        Instances = instances;
    }

    public ProfilingTask Task { get; }

    /// <summary>The whole log, oldest first.</summary>
    public IReadOnlyList<TaskLog> Logs { get; }

    /// <summary>Every instance of the task, in the task's order, then any other instance that reported.</summary>
    public IReadOnlyList<InstanceProgress> Instances { get; }

    /// <summary>Instances whose latest result is a stored profile; each once.</summary>
    public IEnumerable<string> SuccessInstanceIds => Instances.Where(i => i.State == InstanceTaskState.Finished).Select(i => i.InstanceId);

    /// <summary>Instances whose latest result is an error; each once.</summary>
    public IEnumerable<string> ErrorInstanceIds => Instances.Where(i => i.State == InstanceTaskState.Failed).Select(i => i.InstanceId);

    /// <summary>True when every instance finished or failed.</summary>
    public bool IsComplete => Instances.All(i => i.State is InstanceTaskState.Finished or InstanceTaskState.Failed);

    public static TaskProgress From(ProfilingTask task, IReadOnlyList<TaskLog> logs)
    {
        var states = new Dictionary<string, InstanceProgress>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (string id in task.InstanceIds)
        {
            if (!states.ContainsKey(id))
            {
                string name = SkyWalkingIds.SplitInstanceId(id)?.InstanceName ?? id;
                states[id] = new InstanceProgress(id, name, InstanceTaskState.Pending, null, null);
                order.Add(id);
            }
        }

        foreach (TaskLog log in logs)
        {
            if (!states.TryGetValue(log.InstanceId, out InstanceProgress? current))
            {
                current = new InstanceProgress(log.InstanceId, log.InstanceName, InstanceTaskState.Pending, null, null);
                order.Add(log.InstanceId);
            }

            states[log.InstanceId] = log.Operation switch
            {
                TaskLogOperation.NOTIFIED when current.State == InstanceTaskState.Pending =>
                    current with { State = InstanceTaskState.Notified, Since = log.OperationTime },
                TaskLogOperation.NOTIFIED => current,
                TaskLogOperation.EXECUTION_FINISHED =>
                    current with { State = InstanceTaskState.Finished, Reason = null, Since = log.OperationTime },
                TaskLogOperation.PPROF_UPLOAD_FILE_TOO_LARGE_ERROR =>
                    current with { State = InstanceTaskState.Failed, Reason = log.Message ?? "the profile was larger than the upload limit", Since = log.OperationTime },
                _ => current with { State = InstanceTaskState.Failed, Reason = log.Message ?? "the agent reported an error without a reason", Since = log.OperationTime },
            };
        }

        return new TaskProgress(task, logs, [.. order.Select(id => states[id])]);
    }
}
