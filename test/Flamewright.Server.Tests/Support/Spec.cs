namespace Flamewright.Server.Tests.Support;

/// <summary>
/// Every test has a timeout. xUnit enforces <c>Timeout</c> only on tests that return a task, so test bodies run
/// through <see cref="Run(Func{Task})"/> on the thread pool, where the timeout can stop waiting for them.
/// </summary>
internal static class Spec
{
    /// <summary>Milliseconds a test may take: an in-process server start, a few uploads, on a loaded 2-core machine.</summary>
    public const int Timeout = 60_000;

    public static Task Run(Func<Task> body) => Task.Run(body);

    public static Task Run(Action body) => Task.Run(body);
}
