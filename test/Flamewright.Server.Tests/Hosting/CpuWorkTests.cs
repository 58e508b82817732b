using Flamewright.Server.Hosting;

namespace Flamewright.Server.Tests.Hosting;

/// <summary>Long CPU work runs on threads of its own; work nobody watches runs at a lower priority (docs/server.md).</summary>
public sealed class CpuWorkTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task Niced_work_runs_at_its_nice_value_and_what_follows_it_does_not() => Spec.Run(async () =>
    {
        // The suite runs on Linux (CI is Debian), where a nice value is a thread's own.
        int before = CpuWork.CurrentNiceness();

        int niced = await CpuWork.RunNicedAsync(10, CpuWork.CurrentNiceness);
        int afterwards = CpuWork.CurrentNiceness();
        int plain = await CpuWork.RunAsync(CpuWork.CurrentNiceness);
        int unchanged = await CpuWork.RunNicedAsync(0, CpuWork.CurrentNiceness);

        // A process may raise its threads' nice values, never lower them: a suite started niced past 10 stays there.
        Assert.Equal(Math.Max(before, 10), niced);
        // The code after the await, and threads made later, do not inherit the niced thread's value.
        Assert.Equal(before, afterwards);
        Assert.Equal(before, plain);
        Assert.Equal(before, unchanged);
        Assert.Equal(before, CpuWork.CurrentNiceness());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_thread_that_completes_niced_work_runs_at_the_process_priority() => Spec.Run(async () =>
    {
        int before = CpuWork.CurrentNiceness();
        await CpuWork.RunNicedAsync(10, () => 0);

        int completer = await CpuWork.Completer.Instance.ThreadId;

        // It queues the continuations of every niced task, and a thread the pool creates for them inherits its value.
        Assert.Equal(before, CpuWork.NicenessOf(completer));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Niced_work_that_throws_fails_its_task_with_the_exception() => Spec.Run(async () =>
    {
        InvalidOperationException thrown = await Assert.ThrowsAsync<InvalidOperationException>(
            () => CpuWork.RunNicedAsync<int>(10, () => throw new InvalidOperationException("a bad profile")));

        Assert.Equal("a bad profile", thrown.Message);
    });
}
