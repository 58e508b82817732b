using Flamewright.Server.Storage;
namespace Flamewright.Server.Receiver;

/// <summary>
/// Where an upload's bytes wait until the stream ends: memory, or a temporary file that is deleted when the
/// buffer is disposed, whatever way the upload ended. Grows with what arrives, never with what was declared; what
/// it holds is counted in <see cref="UploadLoad.BufferedBytes"/> until it is disposed. In memory it keeps the chunks
/// as they arrived and copies them once, into the array that is parsed and stored: a stream that doubled its array as
/// it filled, then copied it, allocated about three times the upload, all of it garbage for the collector's largest
/// generation.
/// </summary>
internal sealed class UploadBuffer : IDisposable
{
    private readonly Stream? _stream;
    private readonly List<ReadOnlyMemory<byte>> _chunks = [];
    private long _length;
    private readonly string? _path;
    private readonly UploadLoad _load;
    private long _counted;

    private UploadBuffer(Stream? stream, string? path, UploadLoad load)
    {
        _stream = stream;
        _path = path;
        _load = load;
    }

    public long Length => _stream?.Length ?? _length;

    public static UploadBuffer InMemory(UploadLoad load) => new(null, null, load);

    public static UploadBuffer InTemporaryFile(string directory, UploadLoad load)
    {
        DataDirectory.CreatePrivate(directory);
        string path = Path.Combine(directory, $"{Guid.NewGuid():N}.upload");
        // DeleteOnClose removes the file even if Dispose is never reached; the explicit delete covers the rest,
        // and the server clears the folder at start for a process that was killed. Private to this user, as the
        // database is.
        var stream = new FileStream(path, DataDirectory.CreatePrivateOptions(FileMode.CreateNew, FileOptions.Asynchronous | FileOptions.DeleteOnClose, 1 << 16));
        return new UploadBuffer(stream, path, load);
    }

    /// <summary>
    /// Adds <paramref name="bytes"/>. In memory they are kept, not copied: they must not change afterwards (a gRPC
    /// message's content never does).
    /// </summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        // Counted before the write: a write cut short still leaves its bytes counted until Dispose takes them back.
        _counted += bytes.Length;
        _load.Buffered(bytes.Length);
        if (_stream is not null)
        {
            return _stream.WriteAsync(bytes, cancellationToken);
        }

        _chunks.Add(bytes);
        _length += bytes.Length;
        return ValueTask.CompletedTask;
    }

    public async Task<byte[]> ToArrayAsync(CancellationToken cancellationToken)
    {
        if (_stream is null)
        {
            byte[] whole = GC.AllocateUninitializedArray<byte>(checked((int)_length));
            int at = 0;
            foreach (ReadOnlyMemory<byte> chunk in _chunks)
            {
                chunk.Span.CopyTo(whole.AsSpan(at));
                at += chunk.Length;
            }

            return whole;
        }

        byte[] bytes = new byte[_stream.Length];
        _stream.Position = 0;
        await _stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        return bytes;
    }

    public void Dispose()
    {
        _load.Buffered(-_counted);
        _counted = 0;
        _chunks.Clear();
        _stream?.Dispose();
        if (_path is not null && File.Exists(_path))
        {
            File.Delete(_path);
        }
    }
}
