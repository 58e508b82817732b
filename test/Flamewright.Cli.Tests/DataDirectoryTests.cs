using System.Runtime.Versioning;

namespace Flamewright.Cli.Tests;

/// <summary>
/// A data directory the server cannot write stops <c>flamewright server</c> at start with one line naming it, and
/// one that becomes read-only while it runs turns <c>/healthz</c> unhealthy. The server runs bound by file modes,
/// as a service account would, even when the tests run as root.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class DataDirectoryTests
{
    private const UnixFileMode ReadOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateDirectory = ReadOnlyDirectory | UnixFileMode.UserWrite;

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task A_read_only_data_directory_with_a_database_stops_the_server_with_one_line_and_exit_code_2() => InTemporaryDirectoryAsync(async dataDir =>
    {
        using (ServerProcess first = await ServerProcess.StartAsync(dataDir))
        {
            Assert.Equal(0, first.Terminate());
        }

        File.SetUnixFileMode(dataDir, ReadOnlyDirectory);
        CliResult refused = ServeBoundByFileModes(dataDir);

        Assert.Equal(2, refused.ExitCode);
        Assert.StartsWith($"flamewright: cannot write the data directory {dataDir}: ", Assert.Single(refused.StderrLines));
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task A_missing_data_directory_under_a_parent_it_cannot_write_stops_the_server_with_one_line_and_exit_code_2() => InTemporaryDirectoryAsync(parent =>
    {
        string dataDir = Path.Combine(parent, "data");
        File.SetUnixFileMode(parent, ReadOnlyDirectory);

        CliResult refused = ServeBoundByFileModes(dataDir);

        Assert.Equal(2, refused.ExitCode);
        Assert.StartsWith($"flamewright: cannot create the data directory {dataDir}: ", Assert.Single(refused.StderrLines));
        return Task.CompletedTask;
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task A_data_directory_made_read_only_while_the_server_runs_turns_healthz_unhealthy_and_back() => InTemporaryDirectoryAsync(async dataDir =>
    {
        using ServerProcess server = await ServerProcess.StartBoundByFileModesAsync(dataDir);
        using var http = new HttpClient { BaseAddress = new Uri(server.HttpAddress) };

        File.SetUnixFileMode(dataDir, ReadOnlyDirectory);
        using HttpResponseMessage unhealthy = await http.GetAsync("/healthz");
        File.SetUnixFileMode(dataDir, PrivateDirectory);
        using HttpResponseMessage healthy = await http.GetAsync("/healthz");

        Assert.Equal((System.Net.HttpStatusCode.ServiceUnavailable, "unhealthy: storage cannot be written\n"), (unhealthy.StatusCode, await unhealthy.Content.ReadAsStringAsync()));
        Assert.Equal("ok\n", await healthy.Content.ReadAsStringAsync());
        Assert.Contains($"Health check: storage cannot be written: cannot write {dataDir}", server.Output);
    });

    private static CliResult ServeBoundByFileModes(string dataDir) =>
        FlamewrightProcess.Run(["server", "--grpc-port", "0", "--http-port", "0", "--data-dir", dataDir], null, null, boundByFileModes: true);

    /// <summary>Runs <paramref name="test"/> on a new directory, which is made writable again and removed afterwards.</summary>
    private static Task InTemporaryDirectoryAsync(Func<string, Task> test) => Spec.Run(async () =>
    {
        string directory = Directory.CreateTempSubdirectory("flamewright-datadir-").FullName;
        try
        {
            await test(directory);
        }
        finally
        {
            File.SetUnixFileMode(directory, PrivateDirectory);
            Directory.Delete(directory, recursive: true);
        }
    });
}
