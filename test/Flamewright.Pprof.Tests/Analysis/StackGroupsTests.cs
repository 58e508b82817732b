using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Tests.Analysis;

/// <summary>Samples grouped by stack and labels, heaviest first: "N goroutines wait here".</summary>
public sealed class StackGroupsTests
{
    private static Profile Goroutines => ProfileReader.ReadFile(TestData.Profile("goroutine"));

    [Fact(Timeout = Spec.Timeout)]
    public Task The_goroutines_parked_at_one_place_are_the_first_group() => Spec.Run(() =>
    {
        StackGroups groups = StackGroups.Build([Goroutines]);

        StackGroup first = groups.Groups[0];
        Assert.Equal(3, first.Value);
        Assert.Equal("runtime.gopark", first.Frames[0]);
        Assert.Contains("main.parkedReceiver", first.Frames);
        Assert.Equal("goroutine", groups.SampleType.Type);
        Assert.Equal(groups.Groups.Sum(g => g.Value), groups.Total);
        Assert.Equal(groups.Groups.OrderByDescending(g => g.Value).Select(g => g.Value), groups.Groups.Select(g => g.Value));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_goroutine_started_under_pprof_Do_carries_its_labels() => Spec.Run(() =>
    {
        StackGroups groups = StackGroups.Build([Goroutines]);

        StackGroup labelled = groups.Groups.First(g => g.Labels.Count > 0);
        Assert.Contains(new KeyValuePair<string, string>("handler", "handler=/api/v1, ünïcode"), labelled.Labels);
        Assert.Contains("runtime/pprof.Do", labelled.Frames);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_limit_keeps_the_heaviest_groups_and_the_count_of_all() => Spec.Run(() =>
    {
        StackGroups all = StackGroups.Build([Goroutines]);
        StackGroups two = StackGroups.Build([Goroutines], limit: 2);

        Assert.Equal(2, two.Groups.Count);
        Assert.Equal(all.GroupCount, two.GroupCount);
        Assert.True(all.GroupCount > 2);
        Assert.Equal(all.Groups.Take(2), two.Groups, (a, b) => a.Value == b.Value && a.Frames.SequenceEqual(b.Frames));
        Assert.Equal(all.Total, two.Total);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Instances_with_the_same_stacks_and_labels_add_up_in_one_group() => Spec.Run(() =>
    {
        StackGroups one = StackGroups.Build([Goroutines]);
        StackGroups twice = StackGroups.Build([Goroutines, Goroutines]);

        Assert.Equal(one.GroupCount, twice.GroupCount);
        Assert.Equal(one.Groups.Select(g => 2 * g.Value), twice.Groups.Select(g => g.Value));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Focus_keeps_only_the_groups_through_the_focused_function() => Spec.Run(() =>
    {
        StackGroups focused = StackGroups.Build([Goroutines], new FlameOptions { Focus = "^main\\.parkedReceiver$" });

        Assert.NotEmpty(focused.Groups);
        Assert.All(focused.Groups, g => Assert.Contains("main.parkedReceiver", g.Frames));
    });
}
