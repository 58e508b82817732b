using Flamewright.Server.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flamewright.Server.Storage;

/// <summary>
/// Deletes what is older than <see cref="ServerOptions.RecordTtlDays"/> (SkyWalking's <c>SW_CORE_RECORD_DATA_TTL</c>):
/// tasks with their logs and uploads by creation time, instances by when they were last seen.
/// </summary>
internal sealed partial class RetentionService(IProfilingStore store, ServerOptions options, TimeProvider time, ILogger<RetentionService> logger) : BackgroundService
{
    /// <summary>One pass; returns the number of tasks deleted.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        long cutoff = time.GetUtcNow().AddDays(-options.RecordTtlDays).ToUnixTimeMilliseconds();
        int deleted = await store.DeleteExpiredAsync(cutoff, cancellationToken).ConfigureAwait(false);
        if (deleted > 0)
        {
            LogSwept(logger, deleted, options.RecordTtlDays);
        }

        return deleted;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(options.RetentionCheckMinutes), time);
        do
        {
            try
            {
                await SweepAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogSweepFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Retention: deleted {Tasks} task(s) older than {Days} day(s)")]
    private static partial void LogSwept(ILogger logger, int tasks, int days);

    [LoggerMessage(EventId = 301, Level = LogLevel.Error, Message = "Retention pass failed")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
