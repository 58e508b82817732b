namespace Flamewright.Server.Receiver;

/// <summary>
/// Where an upload's bytes wait until the stream ends: memory, or a temporary file that is deleted when the
/// buffer is disposed, whatever way the upload ended. Grows with what arrives, never with what was declared.
/// In memory, the received chunks are kept as they are (gRPC gives each message its own buffer) and copied
/// once, into an array of the exact size, at the end.
/// </summary>
internal sealed class UploadBuffer : IDisposable
{
    private readonly Stream? _stream;
    private readonly string? _path;
    private readonly List<ReadOnlyMemory<byte>> _chunks = [];
    private long _length;

    private UploadBuffer(Stream? stream, string? path)
    {
        _stream = stream;
        _path = path;
    }

    public long Length => _length;

    public static UploadBuffer InMemory() => new(null, null);

    public static UploadBuffer InTemporaryFile(string directory)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, $"{Guid.NewGuid():N}.upload");
        // DeleteOnClose removes the file even if Dispose is never reached; the explicit delete covers the rest,
        // and the server clears the folder at start for a process that was killed.
        var stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        return new UploadBuffer(stream, path);
    }

    /// <summary>Adds a chunk; in memory, <paramref name="bytes"/> is kept, so it must not be reused by the caller.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        _length += bytes.Length;
        if (_stream is null)
        {
            _chunks.Add(bytes);
            return ValueTask.CompletedTask;
        }

        return _stream.WriteAsync(bytes, cancellationToken);
    }

    public async Task<byte[]> ToArrayAsync(CancellationToken cancellationToken)
    {
        byte[] bytes = new byte[_length];
        if (_stream is null)
        {
            int offset = 0;
            foreach (ReadOnlyMemory<byte> chunk in _chunks)
            {
                chunk.Span.CopyTo(bytes.AsSpan(offset));
                offset += chunk.Length;
            }

            return bytes;
        }

        _stream.Position = 0;
        await _stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        return bytes;
    }

    public void Dispose()
    {
        _chunks.Clear();
        _stream?.Dispose();
        if (_path is not null && File.Exists(_path))
        {
            File.Delete(_path);
        }
    }
}
