namespace Flamewright.Pprof;

/// <summary>Limits applied while reading a profile. Every number that bounds memory or work lives here.</summary>
public sealed record PprofLimits
{
    /// <summary>Default for <see cref="MaxDecompressedBytes"/>: 256 MiB.</summary>
    /// <remarks>
    /// Go profiles compress 2–10×, so an upload at SkyWalking's 30 MiB limit inflates to at most ~300 MiB
    /// in the worst realistic case and ~75 MiB typically. 256 MiB leaves room for real profiles while a gzip
    /// bomb (1000:1 and more) is refused after inflating at most this much.
    /// </remarks>
    public const long DefaultMaxDecompressedBytes = 256L * 1024 * 1024;

    /// <summary>The largest decompressed profile accepted; decoding stops and fails once it is exceeded.</summary>
    public long MaxDecompressedBytes { get; init; } = DefaultMaxDecompressedBytes;

    /// <summary>The limits used when none are given.</summary>
    public static PprofLimits Default { get; } = new();

    internal void Validate()
    {
        // Arrays are indexed by int: one contiguous buffer cannot exceed Array.MaxLength.
        if (MaxDecompressedBytes <= 0 || MaxDecompressedBytes > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(
                nameof(MaxDecompressedBytes), MaxDecompressedBytes, $"must be between 1 and {Array.MaxLength} bytes");
        }
    }
}
