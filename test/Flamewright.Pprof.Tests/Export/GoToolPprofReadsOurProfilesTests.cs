using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Tests.Export;

/// <summary>
/// Profiles we write are read by <c>go tool pprof</c> (Go must be installed) and mean the same to it as to us:
/// a merge of a profile with itself has twice the total, and every function twice its flat and cum.
/// </summary>
public sealed partial class GoToolPprofReadsOurProfilesTests
{
    [Theory(Timeout = Spec.ProcessTimeout)]
    [InlineData("cpu", 1, "ns")]
    [InlineData("cpu", 0, "count")]
    [InlineData("heap", 1, "B")]
    [InlineData("heap", 3, "B")]
    [InlineData("heap", 2, "count")]
    public Task Go_tool_pprof_reads_a_profile_merged_with_itself_as_twice_the_total(string name, int sampleIndex, string unit) => Spec.Run(() =>
    {
        Profile original = ProfileReader.ReadFile(TestData.Profile(name));
        Profile merged = ProfileMerger.Merge([original, ProfileReader.ReadFile(TestData.Profile(name))]);
        string path = Path.Combine(Path.GetTempPath(), $"flamewright-merged-{name}-{Guid.NewGuid():N}.pb.gz");
        try
        {
            ProfileWriter.WriteFile(merged, path);

            (long total, Dictionary<string, (long Flat, long Cum)> functions) = GoToolPprofTop(path, sampleIndex, unit);

            long originalTotal = original.Total(sampleIndex);
            Assert.True(originalTotal > 0, $"{name} has no {original.SampleTypes[sampleIndex]}");
            Assert.Equal(2 * originalTotal, total);
            TopTable ours = TopTable.Build(merged, new FlameOptions { SampleType = sampleIndex.ToString(CultureInfo.InvariantCulture) });
            Assert.Equal(
                ours.Entries.Select(e => $"{e.Name} {e.Flat} {e.Cum}").Order(StringComparer.Ordinal),
                functions.Select(f => $"{f.Key} {f.Value.Flat} {f.Value.Cum}").Order(StringComparer.Ordinal));
            TopTable single = TopTable.Build(original, new FlameOptions { SampleType = sampleIndex.ToString(CultureInfo.InvariantCulture) });
            Assert.Equal(
                single.Entries.Select(e => $"{e.Name} {2 * e.Flat} {2 * e.Cum}").Order(StringComparer.Ordinal),
                functions.Select(f => $"{f.Key} {f.Value.Flat} {f.Value.Cum}").Order(StringComparer.Ordinal));
        }
        finally
        {
            File.Delete(path);
        }
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Go_tool_pprof_reads_a_hand_built_profile_with_inlining_labels_and_negative_values() => Spec.Run(() =>
    {
        ProfileBuilder builder = Analysis.Stacks.Single(Analysis.Stacks.InuseSpace);
        int main = Analysis.Stacks.Location(builder, ("main.main", 3));
        int inlined = Analysis.Stacks.Location(builder, ("main.inner", 20), ("main.outer", 10));
        builder.AddSample([inlined, main], [4096], [new Label("handler", "/api", 0, null)]);
        builder.AddSample([main], [-1024]);
        string path = Path.Combine(Path.GetTempPath(), $"flamewright-built-{Guid.NewGuid():N}.pb");
        try
        {
            ProfileWriter.WriteFile(builder.Build(), path, gzip: false);

            (long total, Dictionary<string, (long Flat, long Cum)> functions) = GoToolPprofTop(path, 0, "B");

            Assert.Equal(5120, total); // the sum of absolute values
            Assert.Equal(
                ["main.inner 4096 4096", "main.main -1024 3072", "main.outer 0 4096"],
                functions.Select(f => $"{f.Key} {f.Value.Flat} {f.Value.Cum}").Order(StringComparer.Ordinal));
        }
        finally
        {
            File.Delete(path);
        }
    });

    /// <summary>Runs <c>go tool pprof -top</c> on <paramref name="path"/>: its total and each function's flat and cum.</summary>
    private static (long Total, Dictionary<string, (long Flat, long Cum)> Functions) GoToolPprofTop(string path, int sampleIndex, string unit)
    {
        var start = new ProcessStartInfo("go")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[]
        {
            "tool", "pprof", "-symbolize=none", "-top", "-nodecount=1000000", "-nodefraction=0", "-edgefraction=0",
            "-unit=" + unit, "-sample_index=" + sampleIndex.ToString(CultureInfo.InvariantCulture), path,
        })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["TZ"] = "UTC";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process started");
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"`go` is not on PATH ({e.Message}): Go is needed to check that go tool pprof reads the profiles we write");
            throw;
        }

        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(150)))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("go tool pprof did not finish within 150 s");
            }

            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"go tool pprof exited {process.ExitCode}: {stderr.Result}");
            return ParseTop(stdout.Result);
        }
    }

    private static (long Total, Dictionary<string, (long Flat, long Cum)> Functions) ParseTop(string output)
    {
        long total = long.MinValue;
        var functions = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        bool rows = false;
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Match showing = ShowingLine().Match(line);
            if (showing.Success)
            {
                total = long.Parse(showing.Groups[1].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            }
            else if (line.TrimStart().StartsWith("flat  flat%", StringComparison.Ordinal))
            {
                rows = true;
            }
            else if (rows)
            {
                Match row = TopRow().Match(line);
                Assert.True(row.Success, "unexpected go tool pprof -top row: " + line);
                string name = row.Groups[3].Value;
                foreach (string marker in new[] { " (partial-inline)", " (inline)" })
                {
                    if (name.EndsWith(marker, StringComparison.Ordinal))
                    {
                        name = name[..^marker.Length];
                    }
                }

                functions.Add(name, (Value(row.Groups[1].Value), Value(row.Groups[2].Value)));
            }
        }

        Assert.True(total != long.MinValue, "no 'Showing nodes accounting for ... total' line in:\n" + output);
        return (total, functions);
    }

    private static long Value(string text) =>
        long.Parse(text.TrimEnd('n', 's', 'B'), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^Showing nodes accounting for \S+, \S+ of (-?\d+)(?:ns|B)? total$")]
    private static partial Regex ShowingLine();

    [GeneratedRegex(@"^\s*(-?\d+(?:ns|B)?)\s+\S+\s+\S+\s+(-?\d+(?:ns|B)?)\s+\S+  (.+)$")]
    private static partial Regex TopRow();
}
