namespace Flamewright.Cli.Tests.Support;

/// <summary>
/// Every test has a timeout. xUnit enforces <c>Timeout</c> only on tests that return a task, so test bodies run
/// through <see cref="Run(Action)"/> on the thread pool, where the timeout can stop waiting for them.
/// </summary>
internal static class Spec
{
    /// <summary>Milliseconds a unit test may take, including a cold JIT on a loaded 2-core CI machine.</summary>
    public const int Timeout = 60_000;

    /// <summary>For tests that start processes (the flamewright executable).</summary>
    public const int ProcessTimeout = 180_000;

    public static Task Run(Action body) => Task.Run(body);

    public static Task Run(Func<Task> body) => Task.Run(body);
}
