
namespace Flamewright.Cli.Tests;

/// <summary><c>flamewright config show</c>: every setting, its value and where it came from; secrets masked.</summary>
public sealed class ConfigShowTests
{
    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task With_nothing_configured_it_prints_the_checked_in_baseline_of_defaults() => Spec.Run(() =>
    {
        string dir = Directory.CreateTempSubdirectory("flamewright-config-").FullName;
        try
        {
            CliResult shown = FlamewrightProcess.Run(["config", "show"], null, dir);
            Assert.True(shown.ExitCode == 0, shown.ToString());
            string baseline = Path.Combine(TestData.RepositoryRoot, "test", "Flamewright.Cli.Tests", "Baselines", "config-show.txt");
            if (Environment.GetEnvironmentVariable("FLAMEWRIGHT_UPDATE_BASELINES") == "1")
            {
                File.WriteAllText(baseline, shown.Text);
            }

            Assert.True(File.ReadAllText(baseline) == shown.Text,
                $"config show differs from {baseline}; if the change is intended, run the tests with FLAMEWRIGHT_UPDATE_BASELINES=1. Output:\n{shown.Text}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task Each_layer_is_named_as_the_source_of_the_values_it_sets_and_later_layers_win() => Spec.Run(() =>
    {
        string dir = Directory.CreateTempSubdirectory("flamewright-config-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "appsettings.json"), """{ "Server": { "RecordTtlDays": 7, "GrpcPort": 1111, "HttpPort": 2222 } }""");
            var environment = new Dictionary<string, string>
            {
                ["SW_CORE_GRPC_PORT"] = "11900",
                ["FLAMEWRIGHT_SERVER__HTTPPORT"] = "12900",
                ["SW_AUTHENTICATION"] = "very-secret-token",
                ["FLAMEWRIGHT_SERVER__APITOKEN"] = "very-secret-api-token",
            };
            CliResult shown = FlamewrightProcess.Run(["config", "show", "--data-dir", "/tmp/fw-data", "--http-port", "13900"], environment, dir);

            Assert.True(shown.ExitCode == 0, shown.ToString());
            Assert.Matches(@"RecordTtlDays\s+7\s+file .*appsettings\.json", shown.Text);
            Assert.Matches(@"GrpcPort\s+11900\s+environment SW_CORE_GRPC_PORT", shown.Text);
            Assert.Matches(@"HttpPort\s+13900\s+flag --http-port", shown.Text);
            Assert.Matches(@"DataDir\s+/tmp/fw-data\s+flag --data-dir", shown.Text);
            Assert.Matches(@"Authentication\s+\(set\)\s+environment SW_AUTHENTICATION", shown.Text);
            Assert.Matches(@"MaxUploadBytes\s+31457280\s+default", shown.Text);
            Assert.DoesNotContain("very-secret-token", shown.Text + shown.Stderr);
            Assert.Matches(@"ApiToken\s+\(set\)\s+environment FLAMEWRIGHT_SERVER__APITOKEN", shown.Text);
            Assert.DoesNotContain("very-secret-api-token", shown.Text + shown.Stderr);

            CliResult prefixed = FlamewrightProcess.Run(["config", "show"], new Dictionary<string, string> { ["FLAMEWRIGHT_SERVER__HTTPPORT"] = "12900" }, dir);
            Assert.Matches(@"HttpPort\s+12900\s+environment FLAMEWRIGHT_SERVER__HTTPPORT", prefixed.Text);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

    [Theory(Timeout = Spec.ProcessTimeout)]
    [InlineData("SW_CORE_GRPC_PORT", "eleven", "flamewright: Server:GrpcPort: 'eleven' is not a whole number")]
    [InlineData("SW_RECEIVER_PPROF_MEMORY_PARSER_ENABLED", "maybe", "flamewright: Server:MemoryParser: 'maybe' is not true or false")]
    [InlineData("SW_CORE_REST_PORT", "70000", "flamewright: HttpPort must be between 0 and 65535, not 70000")]
    [InlineData("SW_STORAGE", "elasticsearch", "flamewright: Storage 'elasticsearch' is not supported: use sqlite or postgresql")]
    [InlineData("SW_STORAGE", "postgresql", "flamewright: Storage postgresql needs a database: set PostgresConnectionString (SW_STORAGE_POSTGRESQL_CONNECTION_STRING) or SW_JDBC_URL")]
    public Task A_setting_that_cannot_work_stops_config_show_and_the_server_with_one_line(string variable, string value, string message) => Spec.Run(() =>
    {
        var environment = new Dictionary<string, string> { [variable] = value };
        CliResult shown = FlamewrightProcess.Run(["config", "show"], environment, null);
        CliResult server = FlamewrightProcess.Run(["server", "--data-dir", Path.Combine(Path.GetTempPath(), "flamewright-never-created")], environment, null);

        Assert.Equal(2, shown.ExitCode);
        Assert.Equal([message], shown.StderrLines);
        Assert.Equal(2, server.ExitCode);
        Assert.Equal([message], server.StderrLines);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task PostgreSQL_settings_come_from_SkyWalkings_variables_and_no_password_is_printed() => Spec.Run(() =>
    {
        var environment = new Dictionary<string, string>
        {
            ["SW_STORAGE"] = "postgresql",
            ["SW_JDBC_URL"] = "jdbc:postgresql://127.0.0.1:5432/skywalking?password=hunter2&sslmode=disable",
            ["SW_DATA_SOURCE_USER"] = "sw",
            ["SW_DATA_SOURCE_PASSWORD"] = "second-secret",
        };

        CliResult shown = FlamewrightProcess.Run(["config", "show"], environment, null);

        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Matches(@"Storage\s+postgresql\s+environment SW_STORAGE", shown.Text);
        Assert.Matches(@"JdbcUrl\s+jdbc:postgresql://127\.0\.0\.1:5432/skywalking\?password=\*\*\*\*&sslmode=disable\s+environment SW_JDBC_URL", shown.Text);
        Assert.Matches(@"DataSourceUser\s+sw\s+environment SW_DATA_SOURCE_USER", shown.Text);
        Assert.Matches(@"DataSourcePassword\s+\(set\)\s+environment SW_DATA_SOURCE_PASSWORD", shown.Text);
        Assert.DoesNotContain("hunter2", shown.Text + shown.Stderr);
        Assert.DoesNotContain("second-secret", shown.Text + shown.Stderr);

        CliResult flagged = FlamewrightProcess.Run(["config", "show", "--storage", "postgresql", "--postgres", "Host=127.0.0.1;Database=fw;Username=fw;Password=third-secret"], null, null);
        Assert.Matches(@"PostgresConnectionString\s+\S*Password=\*\*\*\*\S*\s+flag --postgres", flagged.Text);
        Assert.DoesNotContain("third-secret", flagged.Text + flagged.Stderr);
    });

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task A_server_whose_database_never_answers_says_it_waits_then_stops_with_one_line() => Spec.Run(() =>
    {
        int nobody = ServerProcess.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["SW_STORAGE"] = "postgresql",
            ["SW_STORAGE_POSTGRESQL_CONNECTION_STRING"] = $"Host=127.0.0.1;Port={nobody};Database=fw;Username=fw;Timeout=2",
            ["FLAMEWRIGHT_SERVER__STORAGESTARTTIMEOUTSECONDS"] = "2",
        };

        CliResult server = FlamewrightProcess.Run(["server", "--grpc-port", "0", "--http-port", "0"], environment, null);

        Assert.Equal(2, server.ExitCode);
        Assert.Contains($"Waiting for the database (PostgreSQL 127.0.0.1:{nobody}/fw)", server.Text);
        string error = Assert.Single(server.StderrLines);
        Assert.StartsWith($"flamewright: cannot use the database (PostgreSQL 127.0.0.1:{nobody}/fw): ", error);
    });
}
