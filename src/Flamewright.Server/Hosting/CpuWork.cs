namespace Flamewright.Server.Hosting;

/// <summary>
/// Runs seconds of synchronous CPU work (parsing an upload, reading a digest, building a tree) on a thread of its own
/// instead of a thread-pool thread. The pool's threads serve every request and every agent's stream; with its minimum at
/// the core count, a few such jobs left nothing to answer a task list with until the pool grew (measured under the load
/// benchmark: benchmarks/README.md, "the thread pool under load"). How many run at once stays bounded by the turns
/// that wrap them (<c>MaxConcurrentParses</c>, <c>MaxConcurrentAnalyses</c>).
/// </summary>
internal static class CpuWork
{
    /// <summary>Runs <paramref name="work"/> on a thread of its own; its exception is the task's.</summary>
    public static Task<T> RunAsync<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
}
