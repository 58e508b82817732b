using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;

namespace Flamewright.Pprof.Tests.Analysis;

/// <summary>
/// <see cref="Sandwich"/>: a function's callers and callees equal <c>go tool pprof -peek</c>'s for every function of every
/// testdata profile and sample type, and its two graphs hold the function's cum once, recursion included.
/// </summary>
public sealed class SandwichTests
{
    public static TheoryData<string, int> Cases => ProfileCases.EverySampleTypeOfEveryProfile();

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Cases))]
    public Task Every_functions_flat_cum_callers_and_callees_equal_go_tool_pprof_peek(string name, int sampleIndex) => Spec.Run(() =>
    {
        IReadOnlyDictionary<string, PprofOracle.PeekEntry> expected = PprofOracle.ReadPeek(name, sampleIndex);
        Profile profile = ProfileReader.ReadFile(TestData.Profile(name));
        var options = new FlameOptions { SampleType = sampleIndex.ToString(System.Globalization.CultureInfo.InvariantCulture) };

        foreach ((string function, PprofOracle.PeekEntry peek) in expected)
        {
            if (peek.Cum == 0 && peek.Flat == 0)
            {
                // pprof lists a function whose samples are worth nothing in this sample type; its graphs leave it out.
                continue;
            }

            Sandwich actual = Sandwich.Build([profile], options, function);

            Assert.True((peek.Flat, peek.Cum) == (actual.Flat, actual.Cum), $"{function}: pprof flat={peek.Flat} cum={peek.Cum}, ours {actual.Flat} {actual.Cum}");
            Assert.Equal(peek.Callers.OrderBy(e => e.Key, StringComparer.Ordinal), actual.Callers.Select(e => KeyValuePair.Create(e.Name, e.Value)).OrderBy(e => e.Key, StringComparer.Ordinal));
            Assert.Equal(peek.Callees.OrderBy(e => e.Key, StringComparer.Ordinal), actual.Callees.Select(e => KeyValuePair.Create(e.Name, e.Value)).OrderBy(e => e.Key, StringComparer.Ordinal));
        }
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Cases))]
    public Task Both_graphs_hang_from_the_function_with_its_cum_and_follow_its_outermost_call(string name, int sampleIndex) => Spec.Run(() =>
    {
        Profile profile = ProfileReader.ReadFile(TestData.Profile(name));
        var options = new FlameOptions { SampleType = sampleIndex.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        TopTable top = TopTable.Build(profile, options);

        foreach (TopEntry entry in top.Entries.Where(e => e.Cum != 0).Take(40))
        {
            Sandwich sandwich = Sandwich.Build([profile], options, entry.Name);

            foreach (FlameTree tree in new[] { sandwich.CallersTree, sandwich.CalleesTree })
            {
                TreeInvariants.Hold(tree);
                FlameNode only = Assert.Single(tree.Root.Children);
                Assert.Equal((entry.Name, entry.Cum), (only.Name, only.Total));
            }

            // The callers graph's first level is the outermost call's caller, never the function itself.
            Assert.DoesNotContain(sandwich.CallersTree.Root.Children.Single().Children, c => c.Name == entry.Name);
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_recursive_function_counts_each_sample_once_and_its_callers_graph_reaches_the_programs_root() => Spec.Run(() =>
    {
        Profile profile = ProfileReader.ReadFile(TestData.Profile("cpu"));
        var options = new FlameOptions { SampleType = "cpu" };

        Sandwich recurse = Sandwich.Build([profile], options, "main.recurse");

        Assert.Equal(TopTable.Build(profile, options).Entries.Single(e => e.Name == "main.recurse").Cum, recurse.CalleesTree.Root.Total);
        Assert.Contains(recurse.CalleesTree.Root.Children.Single().Children, c => c.Name == "main.recurse");
        Assert.DoesNotContain(recurse.Callers, c => c.Name == "main.recurse");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_function_no_kept_sample_has_is_refused_in_one_line() => Spec.Run(() =>
    {
        Profile profile = ProfileReader.ReadFile(TestData.Profile("cpu"));

        var e = Assert.Throws<PprofFormatException>(() => Sandwich.Build([profile], new FlameOptions(), "main.nowhere\nsecond line"));

        Assert.Equal("no sample of this selection has a frame named 'main.nowhere second line'", e.Message);
    });
}
