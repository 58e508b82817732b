using Flamewright.Pprof;
using Flamewright.Pprof.Analysis;
using Flamewright.Protocol.Pprof;

namespace Flamewright.Cli.Tests;

/// <summary>
/// <c>flamewright server</c> as a real process, driven by the <c>task</c> commands as a user would, with a
/// profile uploaded over gRPC the way the Go agent does.
/// </summary>
public sealed class ServerAndTaskCommandTests
{
    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task A_user_creates_a_task_waits_for_it_and_downloads_its_profile_with_the_task_commands() => Spec.Run(async () =>
    {
        using ServerProcess server = await ServerProcess.StartAsync();
        string[] at = ["--server", server.HttpAddress];

        CliResult created = FlamewrightProcess.Run(["task", "create", "--service", "go-service", "--instances", "provider1", "--event", "CPU", "--duration", "1", .. at]);
        Assert.True(created.ExitCode == 0, created.ToString());
        string taskId = created.Text.Trim();
        Assert.EndsWith("_Z28tc2VydmljZQ==.1", taskId);

        CliResult pending = FlamewrightProcess.Run(["task", "progress", taskId, .. at]);
        Assert.Equal(0, pending.ExitCode);
        Assert.Matches(@"provider1\s+PENDING", pending.Text);

        byte[] profile = File.ReadAllBytes(TestData.Profile("cpu"));
        using (var agent = new GoLikeAgent(server.GrpcAddress, "go-service", "provider1"))
        {
            Assert.Equal(taskId, (await agent.PollAsync())?.TaskId);
            Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(taskId, profile));
        }

        CliResult waited = FlamewrightProcess.Run(["task", "wait", taskId, "--timeout", "00:00:30", .. at]);
        Assert.True(waited.ExitCode == 0, waited.ToString());
        Assert.Contains("provider1  FINISHED", waited.Text);
        Assert.Contains("all 1 instance(s) finished", waited.Text);

        CliResult listed = FlamewrightProcess.Run(["task", "list", "--service", "go-service", .. at]);
        Assert.Equal(0, listed.ExitCode);
        Assert.Matches($@"{taskId.Replace(".", @"\.")}\s+CPU\s+.*1 min\s+provider1", listed.Text);

        CliResult top = FlamewrightProcess.Run(["task", "analyze", taskId, "--instances", "provider1", .. at]);
        Assert.True(top.ExitCode == 0, top.ToString());
        Assert.Contains("main.hashLoop", top.Text);

        string output = Path.Combine(server.DataDir, "merged.pb.gz");
        CliResult downloaded = FlamewrightProcess.Run(["task", "analyze", taskId, "-f", "pprof", "-o", output, .. at]);
        Assert.True(downloaded.ExitCode == 0, downloaded.ToString());
        Assert.Equal(FlameTreeBuilder.Build(ProfileReader.Read(profile)).Total, FlameTreeBuilder.Build(ProfileReader.ReadFile(output)).Total);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Task_commands_report_refusals_and_an_unreachable_server_in_one_line_with_exit_code_2() => Spec.Run(async () =>
    {
        using ServerProcess server = await ServerProcess.StartAsync();
        string[] at = ["--server", server.HttpAddress];

        CliResult invalid = FlamewrightProcess.Run(["task", "create", "--service", "go-service", "--instances", "a", "--event", "BLOCK", "--duration", "1", .. at]);
        Assert.Equal(2, invalid.ExitCode);
        Assert.Equal(["flamewright: ARGUMENT_ERROR: dumpPeriod cannot be negative"], invalid.StderrLines);

        CliResult unknown = FlamewrightProcess.Run(["task", "progress", "123_bm8=.1", .. at]);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Equal(["flamewright: unknown task '123_bm8=.1'"], unknown.StderrLines);

        CliResult nothing = FlamewrightProcess.Run(["task", "analyze", "123_bm8=.1", .. at]);
        Assert.Equal(2, nothing.ExitCode);
        Assert.Equal(["flamewright: unknown task '123_bm8=.1'"], nothing.StderrLines);

        CliResult unreachable = FlamewrightProcess.Run(["task", "list", "--service", "x", "--server", $"http://127.0.0.1:{ServerProcess.FreePort()}"]);
        Assert.Equal(2, unreachable.ExitCode);
        Assert.Single(unreachable.StderrLines);
        Assert.StartsWith("flamewright: cannot reach http://127.0.0.1:", unreachable.StderrLines[0]);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task The_server_stops_cleanly_on_SIGTERM_and_keeps_its_tasks_for_the_next_start() => Spec.Run(async () =>
    {
        string dataDir;
        string taskId;
        using (ServerProcess first = await ServerProcess.StartAsync())
        {
            CliResult created = FlamewrightProcess.Run(["task", "create", "--service", "svc", "--instances", "i1", "--event", "HEAP", "--server", first.HttpAddress]);
            Assert.True(created.ExitCode == 0, created.ToString());
            taskId = created.Text.Trim();
            Assert.Equal(0, first.Terminate());
            Assert.Contains("Flamewright listening", first.Output);
            dataDir = Path.Combine(Path.GetTempPath(), "flamewright-kept-" + Guid.NewGuid().ToString("N"));
            Directory.Move(first.DataDir, dataDir);
        }


        try
        {
            using ServerProcess second = await ServerProcess.StartAsync(dataDir);
            CliResult listed = FlamewrightProcess.Run(["task", "list", "--service", "svc", "--server", second.HttpAddress]);
            Assert.Equal(0, listed.ExitCode);
            Assert.Contains(taskId, listed.Text);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task A_port_already_in_use_stops_the_server_with_one_line_and_exit_code_2() => Spec.Run(async () =>
    {
        using ServerProcess running = await ServerProcess.StartAsync();
        string dataDir = Directory.CreateTempSubdirectory("flamewright-clash-").FullName;
        try
        {
            CliResult clash = FlamewrightProcess.Run(
                ["server", "--grpc-port", ServerProcess.FreePort().ToString(), "--http-port", running.HttpPort.ToString(), "--data-dir", dataDir], null, null);
            Assert.Equal(2, clash.ExitCode);
            Assert.Contains($"flamewright: cannot listen", clash.Stderr);
            Assert.Contains(running.HttpPort.ToString(), clash.Stderr);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Task_commands_send_the_API_token_from_the_environment_and_say_when_one_is_missing_or_refused() => Spec.Run(async () =>
    {
        using ServerProcess server = await ServerProcess.StartWithEnvironmentAsync(new Dictionary<string, string>
        {
            ["FLAMEWRIGHT_SERVER__APITOKEN"] = "cli-full-token",
            ["FLAMEWRIGHT_SERVER__READONLYAPITOKEN"] = "cli-viewer-token",
        });
        string[] at = ["--server", server.HttpAddress];
        string[] create = ["task", "create", "--service", "go-service", "--instances", "provider1", "--event", "HEAP", .. at];

        CliResult missing = FlamewrightProcess.Run(["task", "list", "--service", "go-service", .. at]);
        CliResult wrong = FlamewrightProcess.Run(["task", "list", "--service", "go-service", .. at], new Dictionary<string, string> { ["FLAMEWRIGHT_API_TOKEN"] = "guess" }, null);
        CliResult viewer = FlamewrightProcess.Run(create, new Dictionary<string, string> { ["FLAMEWRIGHT_API_TOKEN"] = "cli-viewer-token" }, null);
        CliResult full = FlamewrightProcess.Run(create, new Dictionary<string, string> { ["FLAMEWRIGHT_API_TOKEN"] = "cli-full-token" }, null);

        Assert.Equal(2, missing.ExitCode);
        Assert.Equal([$"flamewright: {server.HttpAddress}/ needs an API token: set FLAMEWRIGHT_API_TOKEN"], missing.StderrLines);
        Assert.Equal([$"flamewright: {server.HttpAddress}/ refused the API token in FLAMEWRIGHT_API_TOKEN"], wrong.StderrLines);
        Assert.Equal(["flamewright: this API token is read-only: it can query, not create tasks or change dashboards"], viewer.StderrLines);
        Assert.True(full.ExitCode == 0, full.ToString());
        Assert.DoesNotContain("cli-full-token", server.Output);
    });
}
