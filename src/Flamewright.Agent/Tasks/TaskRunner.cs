using Flamewright.Agent.Protocol;
using Flamewright.Agent.Targets;
using Microsoft.Extensions.Logging;

namespace Flamewright.Agent.Tasks;

/// <summary>
/// Runs one task: collects the profile from the source and uploads it, or uploads the reason it failed.
/// One CPU profile at a time per process (Go's own rule): a CPU task that overlaps a running one fails at
/// once with that reason rather than waiting. A finished profile is retried while no server is reachable,
/// a bounded number of times, with doubling waits.
/// </summary>
public sealed partial class TaskRunner(AgentClient client, IProfileSource source, AgentOptions options, ILogger logger) : IDisposable
{
    private readonly SemaphoreSlim _cpu = new(1, 1);
    private string? _cpuTask;

    public async Task RunAsync(PprofCommand task, CancellationToken cancellationToken)
    {
        LogTaskStarted(logger, task.TaskId, task.Event, task.DurationMinutes);
        bool holdsCpu = false;
        if (task.Event == "cpu")
        {
            if (!_cpu.Wait(0, CancellationToken.None))
            {
                await ReportAsync(task, $"another CPU profile (task {_cpuTask}) is running in this process; Go runs one CPU profile at a time", cancellationToken).ConfigureAwait(false);
                return;
            }

            holdsCpu = true;
            _cpuTask = task.TaskId;
        }

        CollectedProfile collected;
        try
        {
            TimeSpan profilingTime = task.HasDuration ? options.TaskMinute * Math.Max(1, task.DurationMinutes) : TimeSpan.Zero;
            collected = await source.CollectAsync(task, profilingTime, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (holdsCpu)
            {
                _cpuTask = null;
                _cpu.Release();
            }
        }

        if (collected.Profile is null)
        {
            await ReportAsync(task, collected.Error ?? "the profile could not be collected", cancellationToken).ConfigureAwait(false);
            return;
        }

        await DeliverAsync(task, () => client.UploadProfileAsync(task.TaskId, collected.Profile, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _cpu.Dispose();

    private Task ReportAsync(PprofCommand task, string reason, CancellationToken cancellationToken)
    {
        LogTaskFailed(logger, task.TaskId, reason);
        return DeliverAsync(task, () => client.UploadErrorAsync(task.TaskId, reason, cancellationToken), cancellationToken);
    }

    private async Task DeliverAsync(PprofCommand task, Func<Task<UploadOutcome>> upload, CancellationToken cancellationToken)
    {
        TimeSpan wait = options.MinBackoff;
        for (int attempt = 1; attempt <= options.UploadAttempts; attempt++)
        {
            UploadOutcome outcome = await upload().ConfigureAwait(false);
            if (outcome == UploadOutcome.Accepted)
            {
                LogTaskDelivered(logger, task.TaskId, attempt);
                return;
            }

            if (outcome == UploadOutcome.Refused)
            {
                return;
            }

            if (attempt < options.UploadAttempts)
            {
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, options.MaxBackoff.Ticks));
            }
        }

        LogTaskLost(logger, task.TaskId, options.UploadAttempts);
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Task {TaskId}: {Event} profile, {Minutes} minute(s)")]
    private static partial void LogTaskStarted(ILogger logger, string taskId, string @event, int minutes);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Task {TaskId}: delivered (attempt {Attempt})")]
    private static partial void LogTaskDelivered(ILogger logger, string taskId, int attempt);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "Task {TaskId} failed: {Reason}")]
    private static partial void LogTaskFailed(ILogger logger, string taskId, string reason);

    [LoggerMessage(EventId = 23, Level = LogLevel.Error, Message = "Task {TaskId}: no server took the result in {Attempts} attempts; it is lost")]
    private static partial void LogTaskLost(ILogger logger, string taskId, int attempts);
}
