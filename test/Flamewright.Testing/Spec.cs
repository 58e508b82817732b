namespace Flamewright.Testing;

/// <summary>
/// Every test has a timeout. xUnit enforces <c>Timeout</c> only on tests that return a task, so test bodies run
/// through <see cref="Run(Func{Task})"/> or <see cref="Run(Action)"/> on the thread pool, where the timeout can stop
/// waiting for them.
/// </summary>
internal static class Spec
{
    /// <summary>Milliseconds a test may take: an in-process server start, a few uploads, a cold JIT, on a loaded 2-core machine.</summary>
    public const int Timeout = 60_000;

    /// <summary>For tests that start processes (go tool pprof, the flamewright executable, a Go service, Chromium).</summary>
    public const int ProcessTimeout = 180_000;

    public static Task Run(Func<Task> body) => Task.Run(body);

    public static Task Run(Action body) => Task.Run(body);
}
