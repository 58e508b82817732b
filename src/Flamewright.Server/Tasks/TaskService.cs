using Flamewright.Server.Configuration;
using Flamewright.Server.Hosting;
using Flamewright.Server.Storage;
using Microsoft.Extensions.Logging;

namespace Flamewright.Server.Tasks;

/// <summary>Creates tasks, hands them to agents and reports their progress: the task lifecycle in one place.</summary>
public sealed partial class TaskService(IProfilingStore store, ServerOptions options, TimeProvider time, ILogger<TaskService> logger)
{
    /// <summary>Validates and stores a task.</summary>
    public async Task<TaskCreationResult> CreateAsync(TaskCreationRequest request, CancellationToken cancellationToken)
    {
        if (TaskCreationRules.FirstViolation(request) is string reason)
        {
            return TaskCreationResult.Invalid(reason);
        }

        // Ours, after SkyWalking's rules: a bound on what one task may name.
        if (request.ServiceInstanceIds!.Distinct(StringComparer.Ordinal).Count() > options.MaxInstancesPerTask)
        {
            return TaskCreationResult.Invalid($"serviceInstanceIds cannot name more than {options.MaxInstancesPerTask} instances");
        }

        PprofEvent e = request.Events!.Value;
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        int? duration = e.HasDuration() ? request.Duration : null;
        // A task is dispatchable for SkyWalking's window at least, and for its whole duration when that is longer:
        // an agent that starts late in a 15-minute task still has something to profile.
        long dispatchMinutes = Math.Max(options.TaskDispatchMinutes, duration ?? 0);
        var task = new ProfilingTask(
            SkyWalkingIds.TaskId(now, request.ServiceId!),
            request.ServiceId!,
            [.. request.ServiceInstanceIds!.Distinct(StringComparer.Ordinal)],
            e,
            duration,
            e.HasDumpPeriod() ? request.DumpPeriod : null,
            now,
            now + dispatchMinutes * 60_000);
        ProfilingTask? stored = await store.TryCreateTaskAsync(task, now, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return new TaskCreationResult(TaskCreationCode.ALREADY_PROFILING_ERROR, TaskCreationResult.AlreadyProfilingReason, null);
        }

        LogTaskCreated(logger, stored.Id, stored.Event, stored.InstanceIds.Count);
        return new TaskCreationResult(TaskCreationCode.SUCCESS, null, stored);
    }

    /// <summary>
    /// The task an agent gets on this poll, if any, with a NOTIFIED log for the delivery.
    /// </summary>
    public async Task<ProfilingTask?> DispatchAsync(string serviceName, string instanceName, long lastCommandTime, CancellationToken cancellationToken)
    {
        string serviceId = SkyWalkingIds.ServiceId(serviceName);
        string instanceId = SkyWalkingIds.InstanceId(serviceId, instanceName);
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        ProfilingTask? task = await store.NextTaskAsync(serviceId, instanceId, lastCommandTime, now, cancellationToken).ConfigureAwait(false);
        if (task is not null)
        {
            await store.AppendLogAsync(new TaskLog(task.Id, instanceId, instanceName, TaskLogOperation.NOTIFIED, now, null), cancellationToken).ConfigureAwait(false);
            LogTaskDispatched(logger, task.Id, new LogText(instanceName));
        }

        return task;
    }

    /// <summary>A task's progress per instance, or <c>null</c> for an unknown task.</summary>
    public async Task<TaskProgress?> ProgressAsync(string taskId, CancellationToken cancellationToken)
    {
        ProfilingTask? task = await store.FindTaskAsync(taskId, cancellationToken).ConfigureAwait(false);
        if (task is null)
        {
            return null;
        }

        IReadOnlyList<TaskLog> logs = await store.ListLogsAsync(taskId, cancellationToken).ConfigureAwait(false);
        return TaskProgress.From(task, logs);
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Task {TaskId} created: {Event} on {Instances} instance(s)")]
    private static partial void LogTaskCreated(ILogger logger, string taskId, PprofEvent @event, int instances);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Task {TaskId} sent to instance {Instance}")]
    private static partial void LogTaskDispatched(ILogger logger, string taskId, LogText instance);
}
