using System.Collections.Concurrent;

namespace Flamewright.Server.Hosting;

/// <summary>
/// Work a request starts and does not wait for (a digest written after an analysis, a default view kept in storage, a
/// tree read ahead), tracked so that the server lets it end before it closes its storage: a write that outlived the
/// server would land in a database being closed, or in a data directory being removed.
/// </summary>
internal sealed class BackgroundWork
{
    private readonly ConcurrentDictionary<Task, byte> _running = new();

    /// <summary>Runs <paramref name="work"/> on the thread pool; it handles its own failures.</summary>
    public void Start(Func<Task> work)
    {
        Task task = Task.Run(work);
        _running.TryAdd(task, 0);
        // Registered after the add: a task that has already ended is removed at once.
        _ = task.ContinueWith(
            static (ended, running) => ((ConcurrentDictionary<Task, byte>)running!).TryRemove(ended, out _),
            _running, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Waits up to <paramref name="limit"/> for the work started so far to end; false when some had not.</summary>
    public bool Wait(TimeSpan limit)
    {
        try
        {
            return Task.WaitAll([.. _running.Keys], limit);
        }
        catch (AggregateException)
        {
            // Each piece of work reports its own failure; what matters here is that it ended.
            return true;
        }
    }
}
