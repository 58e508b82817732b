
namespace Flamewright.Cli.Tests;

/// <summary>Bad input exits 2 with one line on standard error naming the file; bad usage exits non-zero.</summary>
public sealed class AnalyzeErrorTests
{
    public static TheoryData<string> BadInputs => new()
    {
        "missing file", "empty file", "text file", "truncated gzip", "gzip without its trailer",
        "unknown sample type", "unknown sample index", "cpu then heap",
    };

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task A_failed_analysis_leaves_neither_an_empty_nor_a_partial_output_file_and_keeps_an_old_one() => Spec.Run(() =>
    {
        string dir = Directory.CreateTempSubdirectory("flamewright-out-").FullName;
        try
        {
            string fresh = Path.Combine(dir, "fresh.txt");
            string existing = Path.Combine(dir, "existing.txt");
            File.WriteAllText(existing, "earlier result\n");

            CliResult first = FlamewrightProcess.Run(["analyze", TestData.Profile("cpu"), "-s", "bogus", "-o", fresh]);
            CliResult second = FlamewrightProcess.Run(["analyze", TestData.Profile("cpu"), "-s", "bogus", "-o", existing]);

            Assert.Equal(2, first.ExitCode);
            Assert.Equal(2, second.ExitCode);
            Assert.False(File.Exists(fresh), "a failed run created its output file");
            Assert.Equal("earlier result\n", File.ReadAllText(existing));
            Assert.Equal(["existing.txt"], Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

    [Theory(Timeout = Spec.ProcessTimeout)]
    [MemberData(nameof(BadInputs))]
    public Task Bad_input_exits_2_with_one_stderr_line_naming_the_file_and_no_stack_trace(string input) => Spec.Run(() =>
    {
        string dir = Directory.CreateTempSubdirectory("flamewright-bad-").FullName;
        try
        {
            string cpu = TestData.Profile("cpu");
            byte[] cpuBytes = File.ReadAllBytes(cpu);
            string path = Path.Combine(dir, "input.pb.gz");
            (string[] args, string named, string? message) = input switch
            {
                "missing file" => (["analyze", path], path, "file not found"),
                "empty file" => Write(path, [], "empty input: a profile has at least a string table"),
                "text file" => Write(path, "this is not a profile\nat all\n"u8.ToArray(), null),
                "truncated gzip" => Write(path, cpuBytes[..(cpuBytes.Length / 2)], null),
                "gzip without its trailer" => Write(path, cpuBytes[..^4], null),
                "unknown sample type" => (["analyze", cpu, "--sample-type", "inuse_space"], cpu,
                    "sample type 'inuse_space' not found: it has 0=samples, 1=cpu"),
                "unknown sample index" => (["analyze", cpu, "-s", "2", "--format", "folded"], cpu,
                    "sample type '2' not found: it has 0=samples, 1=cpu"),
                "cpu then heap" => (["analyze", cpu, TestData.Profile("heap")], TestData.Profile("heap"),
                    "profile 2 cannot be merged: its sample types [alloc_objects/count, alloc_space/bytes, inuse_objects/count, inuse_space/bytes] differ from [samples/count, cpu/nanoseconds]"),
                _ => throw new ArgumentOutOfRangeException(nameof(input), input, "unknown case"),
            };

            CliResult result = FlamewrightProcess.Run(args);

            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Empty(result.Stdout);
            string line = Assert.Single(result.StderrLines);
            Assert.StartsWith($"flamewright: {named}: ", line);
            Assert.True(line.Length > $"flamewright: {named}: ".Length + 5, "no explanation: " + line);
            Assert.DoesNotContain("Exception", line);
            Assert.DoesNotMatch(@"\bat [\w.`<>+]+\(", line); // a stack frame: "at Namespace.Type.Method("
            if (message is not null)
            {
                Assert.Equal($"flamewright: {named}: {message}", line);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        (string[], string, string?) Write(string path, byte[] bytes, string? message)
        {
            File.WriteAllBytes(path, bytes);
            return (["analyze", path], path, message);
        }
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Analyze_without_a_file_exits_non_zero_and_says_why() => Spec.Run(() =>
    {
        CliResult result = FlamewrightProcess.Run("analyze");

        Assert.NotEqual(0, result.ExitCode);
        Assert.NotEqual(2, result.ExitCode);
        Assert.Contains("FILE", result.Stderr);
        Assert.DoesNotContain("Type:", result.Text);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task An_unknown_format_or_negative_rows_exits_non_zero_and_says_why() => Spec.Run(() =>
    {
        string cpu = TestData.Profile("cpu");

        CliResult format = FlamewrightProcess.Run("analyze", cpu, "--format", "flamechart");
        CliResult rows = FlamewrightProcess.Run("analyze", cpu, "--rows", "-1");

        Assert.NotEqual(0, format.ExitCode);
        Assert.Contains("flamechart", format.Stderr);
        Assert.DoesNotContain("Type:", format.Text);
        Assert.NotEqual(0, rows.ExitCode);
        Assert.Contains("--rows must be 0 or more", rows.Stderr);
        Assert.DoesNotContain("Type:", rows.Text);
    });
}
