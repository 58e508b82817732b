using System.Globalization;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Digest;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;

namespace Flamewright.Pprof.Tests.Digest;

/// <summary>
/// A flame tree kept as a tree digest reads back node for node, totals and all, for every testdata profile, sample
/// type and granularity; damaged bytes, another version or bytes that make no tree are refused.
/// </summary>
public sealed class TreeDigestTests
{
    public static TheoryData<string, int> SampleTypes => ProfileCases.EverySampleTypeOfEveryProfile();

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(SampleTypes))]
    public Task A_tree_reads_back_from_its_digest_node_for_node_at_both_granularities(string name, int sampleType) => Spec.Run(() =>
    {
        Profile profile = ProfileReader.ReadFile(TestData.Profile(name));

        foreach (FrameGranularity granularity in new[] { FrameGranularity.Function, FrameGranularity.Line })
        {
            FlameTree tree = FlameTreeBuilder.Build(profile, new FlameOptions { SampleType = sampleType.ToString(CultureInfo.InvariantCulture), Granularity = granularity });

            FlameTree read = TreeDigest.Read(TreeDigest.Write(tree));

            TreeInvariants.Same(tree, read);
            TreeInvariants.Hold(read);
            // Go writes every function's source file: the tooltip's file comes through the digest.
            Assert.True(read.Count == 1 || Enumerable.Range(1, read.Count - 1).Any(n => read.FileOf(n).EndsWith(".go", StringComparison.Ordinal)), name);
            Assert.Equal(TopTable.Build(tree).Entries, TopTable.Build(read).Entries);
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_damaged_tree_digest_or_one_of_another_version_or_a_profile_digest_is_refused() => Spec.Run(() =>
    {
        Profile profile = ProfileReader.ReadFile(TestData.Profile("cpu"));
        byte[] digest = TreeDigest.Write(FlameTreeBuilder.Build(profile));
        byte[] damaged = (byte[])digest.Clone();
        damaged[damaged.Length - 3] ^= 0x10;
        byte[] otherVersion = (byte[])digest.Clone();
        otherVersion[4] = TreeDigest.FormatVersion + 1;

        Assert.Contains("checksum", Assert.Throws<DigestException>(() => TreeDigest.Read(damaged)).Message, StringComparison.Ordinal);
        Assert.True(Assert.Throws<DigestException>(() => TreeDigest.Read(otherVersion)).IsOtherVersion);
        Assert.Equal("not a tree digest", Assert.Throws<DigestException>(() => TreeDigest.Read(ProfileDigest.Write(profile))).Message);
        Assert.Equal("not a profile digest", Assert.Throws<DigestException>(() => ProfileDigest.Read(digest)).Message);
    });
}
