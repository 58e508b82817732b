using Flamewright.Server.Receiver;
using Flamewright.Server.Storage.Sqlite;

namespace Flamewright.Server.Tests.Security;

/// <summary>
/// What the server leaves on disk is for its own user alone, and what agents write cannot rewrite the console log:
/// the probe's rows about file modes and terminal escapes.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class FilesAndLogsTests
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerAll = OwnerReadWrite | UnixFileMode.UserExecute;

    [Fact(Timeout = Spec.Timeout)]
    public Task The_data_directory_is_made_0700_and_the_database_its_log_and_temporary_uploads_0600() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { ["MemoryParser"] = "false" });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskWithUploadsAsync("HEAP", (agent, TestData.Bytes("heap")));
        string database = Path.Combine(server.DataDir, SqliteProfilingStore.FileName);
        string temporary = Path.Combine(server.DataDir, UploadReceiver.TemporaryFolder);
        UnixFileMode[] uploading = [];

        await agent.HangUpMidUploadAsync(taskId, TestData.Bytes("heap"), () =>
        {
            uploading = [.. Directory.GetFiles(temporary, "*.upload").Select(File.GetUnixFileMode)];
            return Task.CompletedTask;
        });

        // SQLite deletes the log and shared-memory files when the last connection closes (other tests clear the
        // pools): one held open here keeps them while they are looked at.
        await using var reader = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False");
        await reader.OpenAsync();
        await using (Microsoft.Data.Sqlite.SqliteCommand count = reader.CreateCommand())
        {
            count.CommandText = "SELECT COUNT(*) FROM tasks";
            Assert.Equal(1L, await count.ExecuteScalarAsync());
        }

        Assert.Equal(OwnerAll, File.GetUnixFileMode(server.DataDir));
        Assert.Equal(OwnerAll, File.GetUnixFileMode(temporary));
        Assert.Equal([OwnerReadWrite], uploading);
        Assert.All([database, database + "-wal", database + "-shm"], f => Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(f)));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_database_an_earlier_version_left_readable_by_all_is_made_private_at_start() => Spec.Run(async () =>
    {
        TestServer first = await TestServer.StartAsync();
        string database = Path.Combine(first.DataDir, SqliteProfilingStore.FileName);
        File.SetUnixFileMode(database, OwnerReadWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        await using TestServer restarted = await first.RestartAsync();

        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(database));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_agents_error_text_reaches_the_console_log_with_its_escape_characters_made_visible() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider\u001b[31m1");
        using GraphQLClient graphql = server.GraphQL();
        await agent.RegisterAsync();
        string taskId = await graphql.CreateTaskAsync(agent.ServiceId, [agent.InstanceId], "HEAP");
        await agent.PollAsync();

        await agent.ReportErrorAsync(taskId, "x\u001b[2K\u001b[1Gfake\r\nline");

        Assert.Contains(server.Logs.Entries, e => e.Message.Contains(@"provider\e[31m1 failed with ", StringComparison.Ordinal)
            && e.Message.EndsWith(@"x\e[2K\e[1Gfake\r\nline", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Logs.Entries, e => e.Message.IndexOfAny(['\u001b', '\r', '\n']) >= 0);
        Assert.Equal("x\u001b[2K\u001b[1Gfake\r\nline", (string?)(await graphql.LastLogAsync(taskId))["message"]);
    });
}
