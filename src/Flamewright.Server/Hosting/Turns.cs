namespace Flamewright.Server.Hosting;

/// <summary>
/// A fixed number of turns at some costly work (parsing uploads, running analyses, writing to SQLite): whoever
/// holds one disposes it to give it back. What a setting such as <c>MaxConcurrentAnalyses</c> bounds.
/// </summary>
internal sealed class Turns(int count) : IDisposable
{
    private readonly SemaphoreSlim _free = new(count, count);

    /// <summary>How many turns are free at this moment.</summary>
    public int Free => _free.CurrentCount;

    /// <summary>Waits as long as it takes for a turn.</summary>
    public async Task<IDisposable> TakeAsync(CancellationToken cancellationToken)
    {
        await _free.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Release(() => _free.Release());
    }

    /// <summary>Waits up to <paramref name="wait"/> for a turn; <c>null</c> when none came free.</summary>
    public async Task<IDisposable?> TryTakeAsync(TimeSpan wait, CancellationToken cancellationToken) =>
        await _free.WaitAsync(wait, cancellationToken).ConfigureAwait(false) ? new Release(() => _free.Release()) : null;

    public void Dispose() => _free.Dispose();
}

/// <summary>Runs its action once, however often it is disposed: giving back a turn, a slot or a count.</summary>
internal sealed class Release(Action action) : IDisposable
{
    private Action? _action = action;

    public void Dispose() => Interlocked.Exchange(ref _action, null)?.Invoke();
}
