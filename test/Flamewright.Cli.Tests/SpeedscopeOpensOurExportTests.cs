
namespace Flamewright.Cli.Tests;

/// <summary>
/// The speedscope export opens in speedscope itself: the npm package's web app, served on 127.0.0.1 and
/// loaded in headless Chromium, imports our file and shows the profile name we wrote into it.
/// </summary>
public sealed class SpeedscopeOpensOurExportTests
{
    private static readonly string SpeedscopeApp =
        Path.Combine(TestData.RepositoryRoot, ".tools", "node_modules", "speedscope", "dist", "release");

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Speedscope_loads_the_cpu_profile_we_export_and_names_it_with_its_sample_type() => Spec.Run(() =>
    {
        Assert.True(File.Exists(Path.Combine(SpeedscopeApp, "index.html")), "speedscope not installed: run 'bash .ci/setup'");
        string dir = Directory.CreateTempSubdirectory("flamewright-speedscope-").FullName;
        try
        {
            CliResult export = FlamewrightProcess.Run("analyze", TestData.Profile("cpu"), "--format", "speedscope", "-o", Path.Combine(dir, "profile.json"));
            Assert.True(export.ExitCode == 0, export.ToString());

            using var server = new StaticFileServer(SpeedscopeApp, dir);
            string loaded = Chromium.DumpDom(server.Url("index.html") + "#profileURL=" + server.Url("profile.json"));

            Assert.Contains("cpu.pb.gz cpu/nanoseconds", loaded);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });
}
