using Flamewright.Pprof.Tests.Support;
using static Flamewright.Testing.Wire;

namespace Flamewright.Pprof.Tests.Decoding;

/// <summary>
/// MaxModelBytes bounds what decoding allocates for the model, which a crafted profile of tiny elements makes 10 to 40
/// times its own size: real profiles stay below the default, a crafted one is refused at the limit.
/// </summary>
public sealed class ModelLimitTests
{
    /// <summary>The tables decoding pre-sizes whatever the profile (room for 512 stacks, 16 entries an array, at the least).</summary>
    private const long PresizedTables = 64 << 10;

    public static TheoryData<string> Profiles => ProfileCases.EveryProfile();

    /// <summary>
    /// The default gives a profile at the decompressed limit 4 bytes of model per byte; real profiles need less
    /// whatever their size (here 1.9 to 3.2 beyond the fixed tables, arrays outgrown and final copies included;
    /// the 28 MiB benchmark profile, mostly samples, under 1).
    /// </summary>
    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Profiles))]
    public Task A_real_profile_decodes_within_the_default_model_bytes_per_byte_of_its_own_size(string profile) => Spec.Run(() =>
    {
        byte[] plain = TestData.Plain(profile);
        var own = new PprofLimits { MaxModelBytes = (PprofLimits.DefaultModelBytesPerDecompressedByte * plain.Length) + PresizedTables };

        Assert.Equal(ProfileContent.Of(ProfileReader.Read(plain)), ProfileContent.Of(ProfileReader.Read(plain, own)));
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Profiles))]
    public Task A_decoded_profile_weighs_what_MaxModelBytes_counted_for_it_which_decoding_did_allocate(string profile) => Spec.Run(() =>
    {
        byte[] plain = TestData.Plain(profile);

        long before = GC.GetAllocatedBytesForCurrentThread();
        Model.Profile decoded = ProfileReader.Read(plain);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.InRange(decoded.DecodedBytes, 1, allocated);
        // What the limit counts: one byte less refuses the same profile.
        Assert.Throws<PprofFormatException>(() => ProfileReader.Read(plain, new PprofLimits { MaxModelBytes = decoded.DecodedBytes - 1 }));
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Profiles))]
    public Task A_decoded_profile_is_weighed_for_caches_with_the_decompressed_bytes_its_stacks_are_slices_of(string profile) => Spec.Run(() =>
    {
        byte[] plain = TestData.Plain(profile);

        Model.Profile decoded = ProfileReader.Read(TestData.Bytes(profile));

        // The buffer it was inflated into: the bytes, and room the inflater had left (a page for a small profile).
        Assert.InRange(decoded.HeldBytes - decoded.DecodedBytes, plain.Length, Math.Max(2L * plain.Length, 4096) + 1);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_profile_of_empty_labels_is_refused_where_its_model_passes_the_limit() => Spec.Run(() =>
    {
        // One sample with 100,000 empty labels: 200 KB of input, 3.6 MB of labels.
        byte[] header = TestData.Plain("cpu");
        byte[] labels = Concat([.. Enumerable.Repeat<byte[]>([0x1A, 0x00], 100_000)]);
        byte[] sample = LenField(2, Packed(1, 1), Packed(2, 1, 1), labels);
        byte[] input = Concat(header, sample);
        Assert.Equal(100_000, ProfileReader.Read(input).GetSample(ProfileReader.Read(header).SampleCount).Labels.Length);

        var limits = new PprofLimits { MaxModelBytes = 2 << 20 };
        var refused = Assert.Throws<PprofFormatException>(() => ProfileReader.Read(input, limits));

        Assert.Matches(@"^decoded profile exceeds the limit of 2097152 bytes of memory \(MaxModelBytes\) at a sample\.label at byte offset (\d+); refusing to decode further$", refused.Message);
        int offset = int.Parse(System.Text.RegularExpressions.Regex.Match(refused.Message, @"byte offset (\d+)").Groups[1].Value);
        Assert.InRange(offset, header.Length, input.Length - 2);
        Assert.Equal(0, (offset - (input.Length - labels.Length)) % 2); // at a label's tag
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_default_is_four_bytes_per_decompressed_byte_and_never_below_64_MiB() => Spec.Run(() =>
    {
        Assert.Equal(1L << 30, PprofLimits.Default.EffectiveMaxModelBytes);
        Assert.Equal(4L << 30, new PprofLimits { MaxDecompressedBytes = 1L << 30 }.EffectiveMaxModelBytes);
        Assert.Equal(64L << 20, new PprofLimits { MaxDecompressedBytes = 1 << 20 }.EffectiveMaxModelBytes);
        Assert.Equal(12345, new PprofLimits { MaxModelBytes = 12345 }.EffectiveMaxModelBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => ProfileReader.Read(TestData.Bytes("cpu"), new PprofLimits { MaxModelBytes = 0 }));
    });
}
