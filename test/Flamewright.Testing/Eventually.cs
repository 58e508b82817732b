namespace Flamewright.Testing;

/// <summary>Waiting for what the server does after the client already has its answer.</summary>
internal static class Eventually
{
    /// <summary>Returns once <paramref name="condition"/> holds; fails the test, naming <paramref name="what"/>, if it does not within the timeout.</summary>
    public static async Task HoldsAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        DateTime until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            Expect.That(DateTime.UtcNow < until, $"not within {timeout ?? TimeSpan.FromSeconds(10)}: {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>As <see cref="HoldsAsync(Func{bool}, string, TimeSpan?)"/>, for a condition that asks the server.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        DateTime until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            Expect.That(DateTime.UtcNow < until, $"not within {timeout ?? TimeSpan.FromSeconds(10)}: {what}");
            await Task.Delay(50);
        }
    }
}
