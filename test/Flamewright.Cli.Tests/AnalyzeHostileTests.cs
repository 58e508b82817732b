using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Flamewright.Pprof;

namespace Flamewright.Cli.Tests;

/// <summary>
/// <c>flamewright analyze</c>, with its default settings, on the hostile profiles of <see cref="HostileProfiles"/>:
/// a refused one exits 2 with one line naming the file and the engine's reason; a handled one exits 0 with the
/// right total and its names as they are, in strict UTF-8.
/// </summary>
[Collection(HostileDoorsRunAlone.Name)]
public sealed class AnalyzeHostileTests
{
    /// <summary>
    /// The longest one run may take: starting the runtime, then reading (a few seconds at most on a loaded machine,
    /// HostileProfileTests) and exporting. Beyond it, the run is stuck on its input.
    /// </summary>
    private static readonly TimeSpan RunTimeBound = TimeSpan.FromSeconds(60);

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    public static TheoryData<string> RefusedCases => [.. HostileProfiles.Names(HostileOutcome.Refused)];

    public static TheoryData<string> HandledCases => [.. HostileProfiles.Names(HostileOutcome.Handled)];

    [Theory(Timeout = Spec.ProcessTimeout)]
    [MemberData(nameof(RefusedCases))]
    public Task A_refused_one_exits_2_with_one_line_naming_the_file_and_the_engines_reason(string name) => Spec.Run(() =>
        WithFile(name, path =>
        {
            string reason = Assert.Throws<PprofFormatException>(() => ProfileReader.ReadFile(path)).Message;

            CliResult result = Run(["analyze", path]);

            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Empty(result.Stdout);
            Assert.Equal($"flamewright: {path}: {reason}", Assert.Single(result.StderrLines));
            Assert.Contains(HostileProfiles.Get(name).Reason!, reason);
        }));

    [Theory(Timeout = Spec.ProcessTimeout)]
    [MemberData(nameof(HandledCases))]
    public Task A_handled_one_exits_0_with_its_total_and_its_names_intact(string name) => Spec.Run(() =>
        WithFile(name, path =>
        {
            HostileProfile hostile = HostileProfiles.Get(name);

            CliResult json = Run(["analyze", path, "--format", "json"]);
            CliResult folded = Run(["analyze", path, "--format", "folded"]);
            CliResult svg = Run(["analyze", path, "--format", "svg"]);

            Assert.All([json, folded, svg], r => Assert.True(r.ExitCode == 0 && r.Stderr.Length == 0, r.ToString()));
            using (JsonDocument tree = JsonDocument.Parse(json.Stdout, new JsonDocumentOptions { MaxDepth = 4 * HostileProfiles.DeepFrames }))
            {
                Assert.Equal(hostile.Total, tree.RootElement.GetProperty("total").GetInt64());
            }

            string foldedText = StrictUtf8.GetString(folded.Stdout);
            Assert.All(hostile.Names, n => Assert.Contains(n, foldedText));
            HostileProfiles.CheckSvgShowsNamesOnlyAsText(StrictUtf8.GetString(svg.Stdout), hostile.HostileText ? hostile.Names : []);
        }));

    private static CliResult Run(string[] args)
    {
        var clock = Stopwatch.StartNew();
        CliResult result = FlamewrightProcess.Run(args);
        Assert.True(clock.Elapsed < RunTimeBound, $"flamewright {string.Join(' ', args)} took {clock.Elapsed}");
        return result;
    }

    private static void WithFile(string name, Action<string> test)
    {
        string dir = Directory.CreateTempSubdirectory("flamewright-hostile-").FullName;
        try
        {
            string path = Path.Combine(dir, "profile.pb.gz");
            File.WriteAllBytes(path, HostileProfiles.Get(name).Bytes);
            test(path);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
