using Flamewright.Server.Hosting;

namespace Flamewright.Server.Tests.Hosting;

/// <summary>Work nobody waits for is let to end before the server closes its storage.</summary>
public sealed class BackgroundWorkTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task Waiting_returns_once_the_work_started_so_far_has_ended() => Spec.Run(() =>
    {
        var background = new BackgroundWork();
        int written = 0;
        for (int i = 0; i < 3; i++)
        {
            background.Start(async () =>
            {
                await Task.Delay(200);
                Interlocked.Increment(ref written);
            });
        }

        Assert.True(background.Wait(TimeSpan.FromSeconds(30)));
        Assert.Equal(3, written);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Work_that_outlives_the_limit_is_reported_and_failed_work_counts_as_ended() => Spec.Run(() =>
    {
        var background = new BackgroundWork();
        using var release = new SemaphoreSlim(0);
        background.Start(() => Task.FromException(new InvalidOperationException("a failed write")));
        background.Start(() => release.WaitAsync());

        Assert.False(background.Wait(TimeSpan.FromMilliseconds(200)));
        release.Release();
        Assert.True(background.Wait(TimeSpan.FromSeconds(30)));
    });
}
