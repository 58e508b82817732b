using System.Globalization;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Digest;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;

namespace Flamewright.Pprof.Tests.Digest;

/// <summary>
/// A first look kept at a wide width answers every narrower width exactly as the tree would, after a round trip
/// through its digest, for every testdata profile and sample type; damaged bytes or another version are refused.
/// </summary>
public sealed class FirstLookDigestTests
{
    public static TheoryData<string, int> SampleTypes => ProfileCases.EverySampleTypeOfEveryProfile();

    private static readonly int[] Widths = [16_384, 4_000, 1_400, 333, 50, 1];

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(SampleTypes))]
    public Task A_kept_first_look_answers_every_narrower_width_as_the_tree_does(string name, int sampleType) => Spec.Run(() =>
    {
        Profile profile = ProfileReader.ReadFile(TestData.Profile(name));
        FlameTree tree = FlameTreeBuilder.Build(profile, new FlameOptions { SampleType = sampleType.ToString(CultureInfo.InvariantCulture) });

        FirstLook look = FirstLookDigest.Read(FirstLookDigest.Write(new FirstLook(FlameView.Build(tree, [], Widths[0]), TopTable.Build(tree))));

        foreach (int width in Widths)
        {
            Same(FlameView.Build(tree, [], width), look.View.Narrowed(width));
        }

        TopTable expected = TopTable.Build(tree);
        Assert.Equal(expected.Entries, look.Top.Entries);
        Assert.Equal((expected.Total, expected.AbsoluteTotal, expected.SampleType), (look.Top.Total, look.Top.AbsoluteTotal, look.Top.SampleType));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_view_narrows_to_what_the_tree_gives_at_that_width_zoomed_or_with_a_wider_minimum() => Spec.Run(() =>
    {
        FlameTree tree = FlameTreeBuilder.Build(ProfileReader.Read(TestData.Bytes("cpu")));
        string[] zoom = tree.PathOf(tree.ChildrenOf(0).First().Index);

        foreach (int width in new[] { 900, 120, 7 })
        {
            Same(FlameView.Build(tree, zoom, width), FlameView.Build(tree, zoom, 2_000).Narrowed(width));
            Same(FlameView.Build(tree, [], width, minimumPixels: 3), FlameView.Build(tree, [], 2_000, minimumPixels: 3).Narrowed(width));
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_view_does_not_narrow_to_a_wider_width_and_a_searched_view_does_not_narrow_at_all() => Spec.Run(() =>
    {
        FlameTree tree = FlameTreeBuilder.Build(ProfileReader.Read(TestData.Bytes("cpu")));

        Assert.Throws<ArgumentOutOfRangeException>(() => FlameView.Build(tree, [], 100).Narrowed(101));
        Assert.Throws<InvalidOperationException>(() => FlameView.Build(tree, [], 100, search: new System.Text.RegularExpressions.Regex("main")).Narrowed(50));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_damaged_first_look_digest_or_one_of_another_version_or_a_tree_digest_is_refused() => Spec.Run(() =>
    {
        FlameTree tree = FlameTreeBuilder.Build(ProfileReader.ReadFile(TestData.Profile("cpu")));
        byte[] digest = FirstLookDigest.Write(new FirstLook(FlameView.Build(tree, [], 1000), TopTable.Build(tree)));
        byte[] damaged = (byte[])digest.Clone();
        damaged[damaged.Length / 2] ^= 0x01;
        byte[] otherVersion = (byte[])digest.Clone();
        otherVersion[4] = FirstLookDigest.FormatVersion + 1;

        Assert.Contains("checksum", Assert.Throws<DigestException>(() => FirstLookDigest.Read(damaged)).Message, StringComparison.Ordinal);
        Assert.True(Assert.Throws<DigestException>(() => FirstLookDigest.Read(otherVersion)).IsOtherVersion);
        Assert.Equal("not a first-look digest", Assert.Throws<DigestException>(() => FirstLookDigest.Read(TreeDigest.Write(tree))).Message);
    });

    private static void Same(FlameView expected, FlameView actual)
    {
        Assert.Equal(expected.Frames, actual.Frames);
        Assert.Equal(expected.Narrower, actual.Narrower);
        Assert.Equal(expected.Ancestors, actual.Ancestors);
        Assert.Equal((expected.Root, expected.Span, expected.MinimumTotal, expected.TreeTotal, expected.WidthPixels),
            (actual.Root, actual.Span, actual.MinimumTotal, actual.TreeTotal, actual.WidthPixels));
    }
}
