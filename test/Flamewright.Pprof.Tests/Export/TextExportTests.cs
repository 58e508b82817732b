using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Analysis;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Tests.Export;

/// <summary>Folded stacks and the top table as text.</summary>
public sealed class TextExportTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task Folded_stacks_print_one_sorted_line_per_stack_with_self_value_and_omit_zero_self() => Spec.Run(() =>
    {
        Profile profile = Stacks.CpuBuilder()
            .Add("main;a", 1, 10)
            .Add("other", 1, 2)
            .Add("main;a;b", 1, 5)
            .Add("main", 1, 3)
            .Add("main;a", 1, 1)
            .Add("main;d", 1, 4) // d's self cancels out: a node with self 0, no line
            .Add("main;d", 1, -4)
            .Add("main;e;f", 1, 0) // worth nothing: no node at all
            .Add("", 1, 6) // no stack to print
            .Build();
        FlameTree tree = Stacks.Tree(profile);

        using var writer = new StringWriter();
        FoldedStacks.Write(tree, writer);

        Assert.Equal(["main 3", "main;a 11", "main;a;b 5", "other 2"], FoldedStacks.Lines(tree));
        Assert.Equal("main 3\nmain;a 11\nmain;a;b 5\nother 2\n", writer.ToString());
        Assert.Equal(["root 27/6", "  main 19/3", "    a 16/11", "      b 5/5", "    d 0/0", "  other 2/2"], Stacks.Render(tree));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Folded_stacks_replace_semicolons_and_line_breaks_inside_frame_names() => Spec.Run(() =>
    {
        ProfileBuilder builder = Stacks.Single(Stacks.InuseSpace);
        int main = builder.Location(("main", 0));
        int hostile = builder.Location(("evil;name", 0));
        int newline = builder.Location(("line\nbreak\r\nhere", 0));
        builder.AddSample([hostile, main], [7]);
        builder.AddSample([newline, hostile, main], [-2]);
        FlameTree tree = Stacks.Tree(builder.Build());

        IReadOnlyList<string> lines = FoldedStacks.Lines(tree);

        Assert.Equal(["main;evil name 7", "main;evil name;line break  here -2"], lines);
        Assert.Equal("evil;name", tree.NameOf(2)); // the tree keeps the real name; only the text format cleans it
    });

    private static Profile SmallCpu() => Stacks.CpuBuilder()
        .Add("main;a", 3, 30_000_000)
        .Add("main;b", 2, 20_000_000)
        .Add("main;b;c", 1, 10_000_000)
        .Build();

    [Fact(Timeout = Spec.Timeout)]
    public Task Top_text_prints_the_header_and_every_row_like_pprof() => Spec.Run(() =>
    {
        using var writer = new StringWriter();
        TopText.Write(Stacks.Top(SmallCpu()), writer);

        Assert.Equal(
            "Type: cpu (nanoseconds)\n" +
            "Showing 4 of 4 functions, accounting for 60ms, 100.00% of 60ms total\n" +
            "      flat  flat%   sum%        cum   cum%\n" +
            "      30ms 50.00% 50.00%       30ms 50.00%  a\n" +
            "      20ms 33.33% 83.33%       30ms 50.00%  b\n" +
            "      10ms 16.67% 100.00%       10ms 16.67%  c\n" +
            "       0ns  0.00% 100.00%       60ms 100.00%  main\n",
            writer.ToString());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Top_text_limit_prints_only_that_many_rows_and_what_they_account_for() => Spec.Run(() =>
    {
        TopTable table = Stacks.Top(SmallCpu());
        using var two = new StringWriter();
        using var all = new StringWriter();
        using var more = new StringWriter();
        TopText.Write(table, two, limit: 2);
        TopText.Write(table, all, limit: 0);
        TopText.Write(table, more, limit: 99);

        Assert.Equal(
            "Type: cpu (nanoseconds)\n" +
            "Showing 2 of 4 functions, accounting for 50ms, 83.33% of 60ms total\n" +
            "      flat  flat%   sum%        cum   cum%\n" +
            "      30ms 50.00% 50.00%       30ms 50.00%  a\n" +
            "      20ms 33.33% 83.33%       30ms 50.00%  b\n",
            two.ToString());
        Assert.Equal(7, all.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(all.ToString(), more.ToString());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Top_text_scales_bytes_and_prints_counts_as_integers() => Spec.Run(() =>
    {
        Profile heap = new ProfileBuilder([new ValueType("inuse_objects", "count"), Stacks.InuseSpace])
            .Add("main;alloc", 3, 3 * 1024 * 1024)
            .Add("main;small", 1000, 1536)
            .Build();
        using var bytes = new StringWriter();
        using var counts = new StringWriter();
        TopText.Write(Stacks.Top(heap, "inuse_space"), bytes);
        TopText.Write(Stacks.Top(heap, "inuse_objects"), counts);

        Assert.Equal(
            "Type: inuse_space (bytes)\n" +
            "Showing 3 of 3 functions, accounting for 3MB, 100.00% of 3MB total\n" +
            "      flat  flat%   sum%        cum   cum%\n" +
            "       3MB 99.95% 99.95%        3MB 99.95%  alloc\n" +
            "     1.5kB  0.05% 100.00%      1.5kB  0.05%  small\n" +
            "        0B  0.00% 100.00%        3MB 100.00%  main\n",
            bytes.ToString());
        Assert.Equal(
            "Type: inuse_objects (count)\n" +
            "Showing 3 of 3 functions, accounting for 1003, 100.00% of 1003 total\n" +
            "      flat  flat%   sum%        cum   cum%\n" +
            "      1000 99.70% 99.70%       1000 99.70%  small\n" +
            "         3  0.30% 100.00%          3  0.30%  alloc\n" +
            "         0  0.00% 100.00%       1003 100.00%  main\n",
            counts.ToString());
    });
}
