using Flamewright.Server.Hosting;

namespace Flamewright.Server.Receiver;

/// <summary>
/// What the collect streams in progress hold right now, and the gate uploads pass to start receiving: how many are
/// open, how many wait for their turn, how many are receiving a profile (the ones
/// <see cref="Configuration.ServerOptions.MaxConcurrentUploads"/> counts), the memory those receiving reserved
/// (<see cref="Configuration.ServerOptions.MaxUploadMemoryMegabytes"/>), and how many bytes their buffers hold.
/// The server's own accounting: it enforces the limits, and tests read it to see that an attack left nothing behind.
/// </summary>
/// <remarks>
/// The gate is first come, first served: an upload that does not fit yet holds back the ones behind it, so a
/// 30 MiB profile is not starved by a stream of small ones.
/// </remarks>
internal sealed class UploadLoad(int maxReceiving, long maxReservedBytes)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private int _streams;
    private int _receiving;
    private long _reservedBytes;
    private long _bufferedBytes;

    /// <summary>collect streams open, from their first byte to their end, whatever they sent.</summary>
    public int Streams => Volatile.Read(ref _streams);

    /// <summary>Uploads past their metadata waiting for a receiving slot or for memory.</summary>
    public int Waiting
    {
        get
        {
            lock (_gate)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>Uploads past their metadata, holding one of the <see cref="Configuration.ServerOptions.MaxConcurrentUploads"/> slots.</summary>
    public int Receiving => Volatile.Read(ref _receiving);

    /// <summary>Memory reserved by the uploads receiving into memory: the sizes they declared.</summary>
    public long ReservedBytes => Interlocked.Read(ref _reservedBytes);

    /// <summary>Bytes received and not yet released, over every upload's buffer (memory or temporary file).</summary>
    public long BufferedBytes => Interlocked.Read(ref _bufferedBytes);

    /// <summary>Counts one open stream until the returned object is disposed.</summary>
    public IDisposable OpenStream()
    {
        Interlocked.Increment(ref _streams);
        return new Release(() => Interlocked.Decrement(ref _streams));
    }

    /// <summary>
    /// Takes a receiving slot and reserves <paramref name="bytes"/> of memory until the returned object is disposed,
    /// waiting in line up to <paramref name="wait"/> for both; <c>null</c> when the wait ran out.
    /// </summary>
    public async Task<IDisposable?> StartReceivingAsync(long bytes, TimeSpan wait, CancellationToken cancellation)
    {
        Waiter waiter;
        lock (_gate)
        {
            if (_waiters.Count == 0 && Fits(bytes))
            {
                return Take(bytes);
            }

            waiter = new Waiter(bytes);
            waiter.Node = _waiters.AddLast(waiter);
        }

        try
        {
            return await waiter.Granted.Task.WaitAsync(wait, cancellation).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            bool left;
            lock (_gate)
            {
                // Still in line: leave it, and let those behind it go first if they fit.
                left = waiter.Node!.List is not null;
                if (left)
                {
                    _waiters.Remove(waiter.Node);
                    GrantWaiters();
                }
            }

            if (!left)
            {
                // Granted between the end of the wait and the lock: give it back.
                (await waiter.Granted.Task.ConfigureAwait(false)).Dispose();
            }

            if (e is TimeoutException)
            {
                return null;
            }

            throw;
        }
    }

    public void Buffered(long bytes) => Interlocked.Add(ref _bufferedBytes, bytes);

    private bool Fits(long bytes) =>
        _receiving < maxReceiving && (_reservedBytes == 0 || _reservedBytes + bytes <= maxReservedBytes);

    private Release Take(long bytes)
    {
        Interlocked.Increment(ref _receiving);
        Interlocked.Add(ref _reservedBytes, bytes);
        return new Release(() =>
        {
            lock (_gate)
            {
                Interlocked.Decrement(ref _receiving);
                Interlocked.Add(ref _reservedBytes, -bytes);
                GrantWaiters();
            }
        });
    }

    /// <summary>Lets in, in order, the waiters that fit now. Called with the gate held.</summary>
    private void GrantWaiters()
    {
        while (_waiters.First is { } first && Fits(first.Value.Bytes))
        {
            _waiters.RemoveFirst();
            first.Value.Granted.TrySetResult(Take(first.Value.Bytes));
        }
    }

    private sealed class Waiter(long bytes)
    {
        public long Bytes { get; } = bytes;

        public LinkedListNode<Waiter>? Node { get; set; }

        public TaskCompletionSource<IDisposable> Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
