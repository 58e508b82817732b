using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Tests.Support;

namespace Flamewright.Pprof.Tests;

/// <summary>
/// <see cref="FlameOptions.TagFocus"/>, <see cref="FlameOptions.TagIgnore"/> and <see cref="FlameOptions.TagSplit"/> keep
/// and split the samples as <c>go tool pprof -tagfocus</c>, <c>-tagignore</c> and <c>-tagroot</c> do: for each label case
/// of testdata/regenerate.sh, every function's flat and cum and both totals equal what pprof printed.
/// </summary>
public sealed class LabelFilterAgreementTests
{
    public static TheoryData<string> Cases => ProfileCases.EveryFilteredOracle(byLabel: true);

    /// <summary>pprof does not list <c>-tagroot</c> among its active filters: the key each split case was written with.</summary>
    private static readonly Dictionary<string, string> s_splitKeys = new(StringComparer.Ordinal)
    {
        ["tagroot-tenant"] = "tenant",
        ["tagroot-with-tagignore"] = "job",
        ["tagroot-bytes"] = "bytes",
    };

    private sealed record Case(string Profile, FlameOptions Options, PprofOracle.Top Expected);

    private static Case Read(string oracle)
    {
        string[] parts = oracle.Split('.');
        PprofOracle.Top expected = PprofOracle.ReadTopFile(Path.Combine(TestData.FilteredOracles, oracle));
        string? Filter(string option) =>
            expected.ActiveFilters.SingleOrDefault(f => f.StartsWith(option + "=", StringComparison.Ordinal))?[(option.Length + 1)..];

        var options = new FlameOptions
        {
            SampleType = parts[1],
            Focus = Filter("focus"),
            TagFocus = Filter("tagfocus"),
            TagIgnore = Filter("tagignore"),
            TagSplit = s_splitKeys.GetValueOrDefault(parts[2]),
        };
        Assert.True(options.TagFocus is not null || options.TagIgnore is not null || options.TagSplit is not null, oracle + " filters and splits by no label");
        Assert.All(expected.ActiveFilters, f => Assert.Matches("^(focus|tagfocus|tagignore)=", f));
        return new Case(parts[0], options, expected);
    }

    /// <summary>pprof names a split's frame by the value alone, and the frame of the samples without the key <c>&lt;unknown&gt;</c>.</summary>
    private static string AsPprofNames(string name, string? splitKey) =>
        splitKey is null ? name
        : name == WeightedStacks.UnlabelledName(splitKey) ? "<unknown>"
        : name.StartsWith(splitKey + "=", StringComparison.Ordinal) ? name[(splitKey.Length + 1)..]
        : name;

    [Fact(Timeout = Spec.Timeout)]
    public Task Testdata_has_oracles_for_string_and_numeric_label_filters_lists_ranges_and_splits() => Spec.Run(() =>
    {
        Assert.Superset(
            new HashSet<string>
            {
                "cpu.1.tagfocus-key-and-value.top.txt", "cpu.1.tagignore-key-and-value.top.txt", "cpu.0.tagfocus-any-key.top.txt",
                "cpu.1.tagfocus-every-expression-of-a-list.top.txt", "cpu.1.tagfocus-any-value-of-a-key.top.txt",
                "cpu.1.tagfocus-and-focus.top.txt", "cpu.1.tagroot-tenant.top.txt", "cpu.0.tagroot-with-tagignore.top.txt",
                "heap.1.tagfocus-bytes-between.top.txt", "heap.3.tagignore-bytes-at-most.top.txt", "heap.1.tagfocus-any-number-at-least.top.txt",
                "heap.1.tagfocus-exact-bytes.top.txt", "heap.1.tagfocus-number-without-unit.top.txt", "heap.1.tagroot-bytes.top.txt",
            },
            TestData.AllFilteredOracles().Where(n => n.Split('.')[2].StartsWith("tag", StringComparison.Ordinal)).ToHashSet());
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Cases))]
    public Task Every_functions_flat_and_cum_and_both_totals_equal_go_tool_pprof_top_with_the_same_label_filters(string oracle) => Spec.Run(() =>
    {
        Case c = Read(oracle);

        TopTable actual = TopTable.Build(ProfileReader.ReadFile(TestData.Profile(c.Profile)), c.Options);

        TopAgreement.Holds(c.Expected, actual, shown: true, name => AsPprofNames(name, c.Options.TagSplit));
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Cases))]
    public Task A_split_trees_root_children_are_the_label_values_and_the_tree_totals_what_pprof_shows(string oracle) => Spec.Run(() =>
    {
        Case c = Read(oracle);

        FlameTree tree = FlameTreeBuilder.Build(ProfileReader.ReadFile(TestData.Profile(c.Profile)), c.Options);

        Assert.Equal(c.Expected.Shown, tree.Total);
        TreeInvariants.Hold(tree);
        if (c.Options.TagSplit is { } key)
        {
            Assert.All(tree.Root.Children, child => Assert.True(
                child.Name.StartsWith(key + "=", StringComparison.Ordinal) || child.Name == WeightedStacks.UnlabelledName(key), child.Name));
            Assert.All(tree.Root.Children, child => Assert.Equal(c.Expected.Functions[AsPprofNames(child.Name, key)].Cum, child.Total));
        }
    });

    [Theory(Timeout = Spec.Timeout)]
    [InlineData("tenant=(", "tagfocus: invalid regular expression")]
    [InlineData("bytes=99999999999999999999kb", "tagfocus: the number 99999999999999999999 is out of range")]
    public Task A_bad_label_filter_is_refused_in_one_line_that_names_it(string tagFocus, string expected) => Spec.Run(() =>
    {
        var e = Assert.Throws<PprofFormatException>(() =>
            TopTable.Build(ProfileReader.ReadFile(TestData.Profile("heap")), new FlameOptions { TagFocus = tagFocus }));

        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    });
}
