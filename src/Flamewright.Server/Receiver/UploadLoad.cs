namespace Flamewright.Server.Receiver;

/// <summary>
/// What the collect streams in progress hold right now: how many are open, how many are receiving a profile (the
/// ones <see cref="Configuration.ServerOptions.MaxConcurrentUploads"/> counts) and how many bytes their buffers hold.
/// The server's own accounting: it enforces the limit, and tests read it to see that an attack left nothing behind.
/// </summary>
internal sealed class UploadLoad
{
    private int _streams;
    private int _receiving;
    private long _bufferedBytes;

    /// <summary>collect streams open, from their first byte to their end, whatever they sent.</summary>
    public int Streams => Volatile.Read(ref _streams);

    /// <summary>Uploads past their metadata, holding one of the <see cref="Configuration.ServerOptions.MaxConcurrentUploads"/> slots.</summary>
    public int Receiving => Volatile.Read(ref _receiving);

    /// <summary>Bytes received and not yet released, over every upload's buffer (memory or temporary file).</summary>
    public long BufferedBytes => Interlocked.Read(ref _bufferedBytes);

    /// <summary>Counts one open stream until the returned object is disposed.</summary>
    public IDisposable OpenStream()
    {
        Interlocked.Increment(ref _streams);
        return new Release(() => Interlocked.Decrement(ref _streams));
    }

    /// <summary>Takes one of <paramref name="limit"/> receiving slots until the returned object is disposed; <c>null</c> when all are taken.</summary>
    public IDisposable? TryStartReceiving(int limit)
    {
        if (Interlocked.Increment(ref _receiving) > limit)
        {
            Interlocked.Decrement(ref _receiving);
            return null;
        }

        return new Release(() => Interlocked.Decrement(ref _receiving));
    }

    public void Buffered(long bytes) => Interlocked.Add(ref _bufferedBytes, bytes);

    /// <summary>Runs its action once, however often it is disposed.</summary>
    private sealed class Release(Action action) : IDisposable
    {
        private Action? _action = action;

        public void Dispose() => Interlocked.Exchange(ref _action, null)?.Invoke();
    }
}
