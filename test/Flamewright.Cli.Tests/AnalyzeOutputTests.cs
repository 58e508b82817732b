using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Flamewright.Cli.Tests;

/// <summary><c>flamewright analyze</c> on real Go profiles: what it prints and writes, run as a real process.</summary>
public sealed partial class AnalyzeOutputTests
{
    private static readonly string Cpu = TestData.Profile("cpu");

    /// <summary>The JSON tree nests two levels per frame: deeper than System.Text.Json's default limit of 64.</summary>
    private static readonly JsonDocumentOptions Deep = new() { MaxDepth = 10_000 };

    public static TheoryData<string> Formats => new() { "top", "folded", "json", "skywalking", "speedscope", "svg", "pprof" };

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Analyze_cpu_prints_a_top_table_of_30_rows_in_go_tool_pprof_order() => Spec.Run(() =>
    {
        (_, string[] oracle) = TestData.OracleTop("cpu", 1);

        CliResult result = FlamewrightProcess.Run("analyze", Cpu);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.Stderr);
        string[] lines = result.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Type: cpu (nanoseconds)", lines[0]);
        Assert.StartsWith($"Showing 30 of {oracle.Length} functions, accounting for ", lines[1]);
        Assert.Equal("      flat  flat%   sum%        cum   cum%", lines[2]);
        string[] names = lines.Skip(3).Select(TestData.TopRowName).ToArray();
        Assert.Equal(oracle.Take(30), names);
        Assert.Equal(oracle[0], names[0]); // a function name, as go tool pprof names it: not [binary] or <unknown>
        Assert.DoesNotMatch(@"^(\[.*\]|<unknown>)$", names[0]);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Tag_focus_and_tag_ignore_print_the_functions_go_tool_pprof_prints_with_the_same_label_filters() => Spec.Run(() =>
    {
        (_, string[] focusOracle) = TestData.OracleTopFile("filtered/cpu.1.tagfocus-key-and-value.top.txt");
        (_, string[] ignoreOracle) = TestData.OracleTopFile("filtered/heap.3.tagignore-bytes-at-most.top.txt");

        CliResult focused = FlamewrightProcess.Run("analyze", Cpu, "-s", "1", "--tag-focus", "tenant=acme", "--rows", "0");
        CliResult ignored = FlamewrightProcess.Run("analyze", TestData.Profile("heap"), "-s", "3", "--tag-ignore", "bytes=:4kb", "--rows", "0");

        Assert.True(focused.ExitCode == 0, focused.ToString());
        Assert.True(ignored.ExitCode == 0, ignored.ToString());
        Assert.Equal(focusOracle, focused.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(3).Select(TestData.TopRowName));
        Assert.Equal(ignoreOracle, ignored.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(3).Select(TestData.TopRowName));
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Tag_split_puts_one_root_frame_per_label_value_in_the_folded_stacks() => Spec.Run(() =>
    {
        CliResult result = FlamewrightProcess.Run("analyze", Cpu, "--tag-split", "tenant", "--format", "folded");

        Assert.True(result.ExitCode == 0, result.ToString());
        string[] roots = [.. result.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(';')[0]).Distinct().Order(StringComparer.Ordinal)];
        Assert.Equal(["(no tenant)", "tenant=acme corp"], roots);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Rows_5_prints_the_first_5_rows() => Spec.Run(() =>
    {
        (_, string[] oracle) = TestData.OracleTop("cpu", 1);

        CliResult result = FlamewrightProcess.Run("analyze", Cpu, "--rows", "5");

        Assert.True(result.ExitCode == 0, result.ToString());
        string[] lines = result.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(8, lines.Length);
        Assert.StartsWith($"Showing 5 of {oracle.Length} functions, accounting for ", lines[1]);
        Assert.Equal(oracle.Take(5), lines.Skip(3).Select(TestData.TopRowName));
    });

    [Theory(Timeout = Spec.ProcessTimeout)]
    [MemberData(nameof(Formats))]
    public Task Every_format_writes_valid_output_to_stdout_and_to_an_output_file(string format) => Spec.Run(() =>
    {
        string dir = Directory.CreateTempSubdirectory("flamewright-cli-").FullName;
        try
        {
            string file = Path.Combine(dir, "out." + format);

            CliResult toStdout = FlamewrightProcess.Run("analyze", Cpu, "--format", format);
            CliResult toFile = FlamewrightProcess.Run("analyze", Cpu, "--format", format, "-o", file);

            Assert.True(toStdout.ExitCode == 0, toStdout.ToString());
            Assert.True(toFile.ExitCode == 0, toFile.ToString());
            Assert.Equal("", toStdout.Stderr);
            Assert.Empty(toFile.Stdout);
            byte[] written = File.ReadAllBytes(file);
            AssertValid(format, toStdout.Stdout, dir);
            AssertValid(format, written, dir);
            if (format != "svg")
            {
                Assert.Equal(toStdout.Stdout, written);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task List_sample_types_marks_the_default_of_heap_and_allocs() => Spec.Run(() =>
    {
        CliResult heap = FlamewrightProcess.Run("analyze", TestData.Profile("heap"), "--list-sample-types");
        CliResult both = FlamewrightProcess.Run("analyze", TestData.Profile("heap"), TestData.Profile("allocs"), "--list-sample-types");

        Assert.True(heap.ExitCode == 0, heap.ToString());
        Assert.Equal(
            "0  alloc_objects/count\n1  alloc_space/bytes\n2  inuse_objects/count\n3  inuse_space/bytes  (default)\n",
            heap.Text);
        Assert.True(both.ExitCode == 0, both.ToString());
        Assert.Equal(
            $"{TestData.Profile("heap")}:\n0  alloc_objects/count\n1  alloc_space/bytes\n2  inuse_objects/count\n3  inuse_space/bytes  (default)\n" +
            $"{TestData.Profile("allocs")}:\n0  alloc_objects/count\n1  alloc_space/bytes  (default)\n2  inuse_objects/count\n3  inuse_space/bytes\n",
            both.Text);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Two_files_merge_so_cpu_plus_cpu_doubles_every_folded_stack() => Spec.Run(() =>
    {
        (long total, _) = TestData.OracleTop("cpu", 1);

        CliResult single = FlamewrightProcess.Run("analyze", Cpu, "--format", "folded");
        CliResult merged = FlamewrightProcess.Run("analyze", Cpu, Cpu, "--format", "folded");

        Assert.True(merged.ExitCode == 0, merged.ToString());
        (string Stack, long Value)[] once = Folded(single.Text);
        (string Stack, long Value)[] twice = Folded(merged.Text);
        Assert.Equal(total, once.Sum(l => l.Value));
        Assert.Equal(2 * total, twice.Sum(l => l.Value));
        Assert.Equal(once.Select(l => (l.Stack, 2 * l.Value)), twice);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Sample_type_and_line_granularity_options_change_the_weights_and_frame_names() => Spec.Run(() =>
    {
        (long samples, _) = TestData.OracleTop("cpu", 0);
        (long inuse, _) = TestData.OracleTop("heap", 3);
        (long allocObjects, _) = TestData.OracleTop("heap", 0);

        CliResult bySamples = FlamewrightProcess.Run("analyze", Cpu, "--format", "folded", "--sample-type", "samples");
        CliResult byIndex = FlamewrightProcess.Run("analyze", Cpu, "-f", "folded", "-s", "0", "-g", "line");
        CliResult heapDefault = FlamewrightProcess.Run("analyze", TestData.Profile("heap"), "-f", "folded");
        CliResult heapObjects = FlamewrightProcess.Run("analyze", TestData.Profile("heap"), "-f", "folded", "-s", "alloc_objects");

        Assert.Equal(samples, Folded(bySamples.Text).Sum(l => l.Value));
        Assert.Equal(samples, Folded(byIndex.Text).Sum(l => l.Value));
        Assert.All(Folded(byIndex.Text), l => Assert.All(l.Stack.Split(';'), frame => Assert.Matches(@":\d+$", frame)));
        Assert.DoesNotContain(Folded(bySamples.Text), l => LineSuffix().IsMatch(l.Stack));
        Assert.Equal(inuse, Folded(heapDefault.Text).Sum(l => l.Value));
        Assert.Equal(allocObjects, Folded(heapObjects.Text).Sum(l => l.Value));
    });

    private static void AssertValid(string format, byte[] output, string dir)
    {
        (long total, _) = TestData.OracleTop("cpu", 1);
        Assert.NotEmpty(output);
        string text = System.Text.Encoding.UTF8.GetString(output);
        switch (format)
        {
            case "top":
                Assert.StartsWith("Type: cpu (nanoseconds)\nShowing 30 of ", text);
                break;
            case "folded":
                Assert.All(text.Split('\n')[..^1], line => Assert.Matches(@"^.+ -?\d+$", line));
                Assert.EndsWith("\n", text);
                Assert.Equal(total, Folded(text).Sum(l => l.Value));
                break;
            case "json":
                using (JsonDocument json = JsonDocument.Parse(output, Deep))
                {
                    Assert.Equal(total, json.RootElement.GetProperty("total").GetInt64());
                    Assert.Equal("root", json.RootElement.GetProperty("root").GetProperty("name").GetString());
                    Assert.Equal(total, json.RootElement.GetProperty("root").GetProperty("total").GetInt64());
                    Assert.Equal("cpu", json.RootElement.GetProperty("sampleType").GetProperty("type").GetString());
                }

                break;
            case "skywalking":
                using (JsonDocument json = JsonDocument.Parse(output, Deep))
                {
                    JsonElement root = json.RootElement.GetProperty("elements")[0];
                    Assert.Equal("0", root.GetProperty("id").GetString());
                    Assert.Equal("-1", root.GetProperty("parentId").GetString());
                    Assert.Equal("root", root.GetProperty("codeSignature").GetString());
                    Assert.Equal(total, root.GetProperty("total").GetInt64());
                }

                break;
            case "speedscope":
                using (JsonDocument json = JsonDocument.Parse(output, Deep))
                {
                    Assert.Equal("https://www.speedscope.app/file-format-schema.json", json.RootElement.GetProperty("$schema").GetString());
                    JsonElement profile = json.RootElement.GetProperty("profiles")[0];
                    Assert.Equal(total, profile.GetProperty("weights").EnumerateArray().Sum(w => w.GetInt64()));
                }

                break;
            case "svg":
                Assert.True(text.StartsWith("<svg", StringComparison.Ordinal) || text.StartsWith("<?xml", StringComparison.Ordinal), "not SVG: " + text[..Math.Min(80, text.Length)]);
                break;
            case "pprof":
                Assert.True(output.Length > 2 && output[0] == 0x1f && output[1] == 0x8b, "not gzip");
                using (var gzip = new GZipStream(new MemoryStream(output), CompressionMode.Decompress))
                {
                    gzip.CopyTo(Stream.Null);
                }

                string copy = Path.Combine(dir, $"copy-{Guid.NewGuid():N}.pb.gz");
                File.WriteAllBytes(copy, output);
                CliResult reread = FlamewrightProcess.Run("analyze", copy, "--format", "top", "--rows", "0");
                CliResult original = FlamewrightProcess.Run("analyze", Cpu, "--format", "top", "--rows", "0");
                Assert.True(reread.ExitCode == 0, reread.ToString());
                Assert.Equal(original.Text, reread.Text);
                break;
            default:
                Assert.Fail("no check for format " + format);
                break;
        }
    }

    private static (string Stack, long Value)[] Folded(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line =>
            {
                int space = line.LastIndexOf(' ');
                return (line[..space], long.Parse(line[(space + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
            })
            .ToArray();

    [GeneratedRegex(@":\d+(;|$)")]
    private static partial Regex LineSuffix();
}
