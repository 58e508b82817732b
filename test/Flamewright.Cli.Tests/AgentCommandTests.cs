
namespace Flamewright.Cli.Tests;

/// <summary><c>flamewright agent</c>'s settings: flag, else environment, else appsettings.json; bad ones stop it with one line.</summary>
public sealed class AgentCommandTests
{
    [Theory(Timeout = Spec.ProcessTimeout)]
    [InlineData("--poll", "soon", "flamewright: --poll 'soon' is not a duration such as 20s, 500ms or 2m")]
    [InlineData("--target", "nowhere", "flamewright: --target 'nowhere' is not an http:// address")]
    [InlineData("--server", "127.0.0.1", "flamewright: --server must list host:port addresses, comma-separated")]
    public Task A_bad_setting_stops_the_agent_with_one_line_and_exit_code_2(string flag, string value, string message) => Spec.Run(() =>
    {
        CliResult result = FlamewrightProcess.Run(["agent", "--service", "svc", flag, value]);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal([message], result.StderrLines);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Without_a_service_the_agent_says_it_is_required() => Spec.Run(() =>
    {
        CliResult result = FlamewrightProcess.Run(["agent"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(["flamewright: --service is required"], result.StderrLines);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Settings_come_from_the_environment_and_from_appsettings_when_no_flag_gives_them() => Spec.Run(() =>
    {
        string dir = Directory.CreateTempSubdirectory("flamewright-agent-settings-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "appsettings.json"), """{ "Agent": { "Service": "from-file", "KeepAlive": "whenever" } }""");

            CliResult fromFile = FlamewrightProcess.Run(["agent"], null, dir);
            CliResult fromEnvironment = FlamewrightProcess.Run(["agent"], new Dictionary<string, string> { ["FLAMEWRIGHT_AGENT_KEEP_ALIVE"] = "often" }, dir);
            CliResult fromFlag = FlamewrightProcess.Run(["agent", "--keep-alive", "rarely"], new Dictionary<string, string> { ["FLAMEWRIGHT_AGENT_KEEP_ALIVE"] = "often" }, dir);

            Assert.Equal(["flamewright: --keep-alive 'whenever' is not a duration such as 20s, 500ms or 2m"], fromFile.StderrLines);
            Assert.Equal(["flamewright: --keep-alive 'often' is not a duration such as 20s, 500ms or 2m"], fromEnvironment.StderrLines);
            Assert.Equal(["flamewright: --keep-alive 'rarely' is not a duration such as 20s, 500ms or 2m"], fromFlag.StderrLines);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });
}
