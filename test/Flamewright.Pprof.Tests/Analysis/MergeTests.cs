using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Tests.Analysis;

/// <summary>Several profiles (instances of one service) merged into one tree, table or profile.</summary>
public sealed class MergeTests
{
    private static Profile First() => Stacks.CpuBuilder()
        .Add("main;a", 1, 10)
        .Add("main;a", 1, 10)
        .Add("", 1, 1)
        .Build();

    /// <summary>The same sample types as <see cref="First"/>, in the other order: cpu first, then samples.</summary>
    private static Profile SwappedTypes() => new ProfileBuilder([Stacks.Cpu, Stacks.Samples])
        .Add("main;a", 20, 2)
        .Add("main;b", 30, 3)
        .Build();

    [Fact(Timeout = Spec.Timeout)]
    public Task Profiles_with_the_same_sample_types_in_another_order_merge_by_type() => Spec.Run(() =>
    {
        Profile[] profiles = [First(), SwappedTypes()];

        FlameTree cpu = FlameTreeBuilder.Build(profiles, new FlameOptions { SampleType = "cpu" });
        FlameTree samples = FlameTreeBuilder.Build(profiles, new FlameOptions { SampleType = "samples" });

        Assert.Equal(["root 71/1", "  main 70/0", "    a 40/40", "    b 30/30"], Stacks.Render(cpu));
        Assert.Equal(["root 8/1", "  main 7/0", "    a 4/4", "    b 3/3"], Stacks.Render(samples));
        // No type named: the first profile's default (its last type, cpu), found by type in the second.
        Assert.Equal(Stacks.Render(cpu), Stacks.Render(FlameTreeBuilder.Build(profiles)));
        // An index refers to the first profile's types.
        Assert.Equal(Stacks.Render(samples), Stacks.Render(FlameTreeBuilder.Build(profiles, new FlameOptions { SampleType = "0" })));
        TopTable top = TopTable.Build(profiles, new FlameOptions { SampleType = "cpu" });
        Assert.Equal(["a 40 40", "b 30 30", "main 0 70"], Stacks.Rows(top));
        Assert.Equal(71, top.Total);
        Assert.Equal([0, 1], SampleTypeSelection.Resolve(profiles, "samples"));
        Assert.Equal([1, 0], SampleTypeSelection.Resolve(profiles, "cpu"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task ProfileMerger_sums_values_by_type_in_the_first_profiles_order() => Spec.Run(() =>
    {
        Profile merged = ProfileMerger.Merge([First(), SwappedTypes()]);

        Assert.Equal([Stacks.Samples, Stacks.Cpu], merged.SampleTypes.ToArray());
        Assert.Equal(5, merged.SampleCount);
        Assert.Equal(8, merged.Total(0));
        Assert.Equal(71, merged.Total(1));
        Assert.Equal(["main", "a", "b"], merged.Functions.ToArray().Select(f => f.Name));
        Assert.Equal(["root 71/1", "  main 70/0", "    a 40/40", "    b 30/30"], Stacks.Render(Stacks.Tree(merged)));
        Assert.Equal(Stacks.Cpu, merged.PeriodType);
        Assert.Equal(10_000_000, merged.Period);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Merging_a_cpu_with_a_heap_profile_is_refused_naming_profile_2() => Spec.Run(() =>
    {
        Profile cpu = First();
        Profile heap = new ProfileBuilder([Stacks.AllocSpace, Stacks.InuseSpace]).Add("main;alloc", 64, 32).Build();
        const string Expected =
            "profile 2 cannot be merged: its sample types [alloc_space/bytes, inuse_space/bytes] differ from [samples/count, cpu/nanoseconds]";

        Assert.Equal(Expected, Assert.Throws<PprofFormatException>(() => ProfileMerger.Merge([cpu, heap])).Message);
        Assert.Equal(Expected, Assert.Throws<PprofFormatException>(() => FlameTreeBuilder.Build([cpu, heap])).Message);
        Assert.Equal(Expected, Assert.Throws<PprofFormatException>(() => TopTable.Build([cpu, heap])).Message);
        Assert.Equal(
            Expected.Replace("profile 2", "profile 3", StringComparison.Ordinal),
            Assert.Throws<PprofFormatException>(() => FlameTreeBuilder.Build([cpu, cpu, heap])).Message);
        Assert.StartsWith("profile 3 cannot be merged", Assert.Throws<PprofFormatException>(() => ProfileMerger.Merge([cpu, cpu, heap])).Message);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_profile_with_a_subset_of_the_sample_types_or_another_period_type_is_refused() => Spec.Run(() =>
    {
        Profile cpu = First();
        Profile cpuOnly = new ProfileBuilder([Stacks.Cpu]).Add("main", 10).Build();
        ProfileBuilder otherPeriod = Stacks.CpuBuilder().Add("main", 1, 10);
        otherPeriod.PeriodType = new ValueType("wall", "nanoseconds");

        Assert.Equal(
            "profile 2 cannot be merged: its sample types [cpu/nanoseconds] differ from [samples/count, cpu/nanoseconds]",
            Assert.Throws<PprofFormatException>(() => FlameTreeBuilder.Build([cpu, cpuOnly])).Message);
        Assert.Equal(
            "profile 2 cannot be merged: its period type wall/nanoseconds differs from cpu/nanoseconds",
            Assert.Throws<PprofFormatException>(() => ProfileMerger.Merge([cpu, otherPeriod.Build()])).Message);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Merging_the_real_heap_and_allocs_profiles_sums_every_sample_type() => Spec.Run(() =>
    {
        Profile heap = ProfileReader.ReadFile(TestData.Profile("heap"));
        Profile allocs = ProfileReader.ReadFile(TestData.Profile("allocs"));

        Profile merged = ProfileMerger.Merge([heap, allocs]);

        Assert.Equal(4, merged.SampleTypes.Length);
        Assert.Equal(heap.SampleTypes.ToArray(), merged.SampleTypes.ToArray());
        Assert.Equal(heap.SampleCount + allocs.SampleCount, merged.SampleCount);
        for (int type = 0; type < merged.SampleTypes.Length; type++)
        {
            Assert.True(heap.Total(type) > 0, $"heap has no {heap.SampleTypes[type]}");
            Assert.Equal(heap.Total(type) + allocs.Total(type), merged.Total(type));
            FlameTree tree = Stacks.Tree(merged, type.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(heap.Total(type) + allocs.Total(type), tree.Total);
            TreeInvariants.Hold(tree);
        }

        // Same data in both files: merging doubles every function's flat and cum.
        TopTable single = Stacks.Top(heap, "inuse_space");
        TopTable doubled = Stacks.Top(merged, "inuse_space");
        Assert.Equal(single.Entries.Select(e => (e.Name, 2 * e.Flat, 2 * e.Cum)), doubled.Entries.Select(e => (e.Name, e.Flat, e.Cum)));
        // The merged profile keeps the first profile's default: heap names none, so inuse_space (the last).
        Assert.Equal(3, merged.DefaultSampleTypeIndex);
    });
}
