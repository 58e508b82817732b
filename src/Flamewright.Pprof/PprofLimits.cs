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

    /// <summary>Default for <see cref="MaxModelBytes"/>: this many bytes of model per byte of <see cref="MaxDecompressedBytes"/>.</summary>
    /// <remarks>
    /// What a byte of protobuf decodes to depends on what it holds. Decoding a real profile allocates 1 to 3 bytes of
    /// model per byte, arrays outgrown included (a large one, mostly sample records, under 1). A crafted profile of
    /// nothing but the smallest elements (empty labels, lines, mappings, one-character strings) takes 10 to 40: 256 MiB
    /// of it, a gzip bomb of 256 KiB, would take 10 GiB. 4 leaves every real profile room and stops such a bomb at 1 GiB.
    /// </remarks>
    public const int DefaultModelBytesPerDecompressedByte = 4;

    /// <summary>The least <see cref="MaxModelBytes"/> defaults to: 64 MiB.</summary>
    /// <remarks>
    /// Decoding pre-sizes a few tables (a small profile's take about 100 KiB, a profile of millions of samples up to
    /// 160 MiB), so a small <see cref="MaxDecompressedBytes"/>, as tests and tight deployments set, must not turn into
    /// a model limit that small profiles cannot meet.
    /// </remarks>
    public const long MinDefaultMaxModelBytes = 64L * 1024 * 1024;

    /// <summary>
    /// The most memory decoding may allocate for the profile's model (its tables of strings, functions, locations,
    /// lines, samples, values and labels, the arrays they outgrew included); decoding fails before it would allocate
    /// more. Inflating a gzip profile takes up to about twice <see cref="MaxDecompressedBytes"/> besides.
    /// <c>null</c>, the default, is <see cref="DefaultModelBytesPerDecompressedByte"/> × <see cref="MaxDecompressedBytes"/>
    /// (1 GiB for the default 256 MiB), and at least <see cref="MinDefaultMaxModelBytes"/>.
    /// </summary>
    public long? MaxModelBytes { get; init; }

    /// <summary>The model limit in effect: <see cref="MaxModelBytes"/> or its default.</summary>
    public long EffectiveMaxModelBytes =>
        MaxModelBytes ?? Math.Max(DefaultModelBytesPerDecompressedByte * MaxDecompressedBytes, MinDefaultMaxModelBytes);

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

        if (MaxModelBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxModelBytes), MaxModelBytes, "must be positive");
        }
    }
}
