using System.CommandLine;
using Flamewright.Server.Configuration;

namespace Flamewright.Cli.Server;

/// <summary>The flags that set server settings, shared by <c>server</c> and <c>config show</c>.</summary>
internal sealed class ServerFlags
{
    private readonly List<(Option Option, string Setting)> _settings = [];

    public ServerFlags()
    {
        Config = new Option<string?>("--config") { Description = "An appsettings.json file (default: appsettings.json in the working directory, when present)." };
        Add<string>("--grpc-host", nameof(ServerOptions.GrpcHost), "Address for agents (gRPC); 0.0.0.0 for every interface.");
        Add<int>("--grpc-port", nameof(ServerOptions.GrpcPort), "Agent gRPC port (default 11800; 0 picks a free one).");
        Add<string>("--http-host", nameof(ServerOptions.HttpHost), "Address for GraphQL, REST and the UI.");
        Add<int>("--http-port", nameof(ServerOptions.HttpPort), "HTTP port (default 12800; 0 picks a free one).");
        Add<string>("--allowed-hosts", nameof(ServerOptions.AllowedHosts),
            "Host names, besides IPs and localhost, people may reach the HTTP port by (comma-separated; *.example.com; * for any).");
        Add<string>("--data-dir", nameof(ServerOptions.DataDir), "Directory of the database and temporary uploads (default ./data).");
        Add<string>("--storage", nameof(ServerOptions.Storage), "sqlite (default, one node) or postgresql (several nodes on one database).");
        Add<string>("--postgres", nameof(ServerOptions.PostgresConnectionString),
            "PostgreSQL connection string (Host=…;Database=…;Username=…); prefer SW_STORAGE_POSTGRESQL_CONNECTION_STRING for one with a password.");
        Add<long>("--max-upload-bytes", nameof(ServerOptions.MaxUploadBytes), "Largest profile accepted from an agent (default 30 MiB).");
        Add<bool>("--memory-parser", nameof(ServerOptions.MemoryParser), "Receive uploads in memory (true) or in temporary files (false).");
        Add<int>("--record-ttl-days", nameof(ServerOptions.RecordTtlDays), "Days tasks and profiles are kept (default 3).");
        Add<int>("--task-dispatch-minutes", nameof(ServerOptions.TaskDispatchMinutes), "Minutes a task is offered to agents at least (default 5).");
        Add<bool>("--allow-pprof-without-token", nameof(ServerOptions.AllowPprofWithoutToken), "With SW_AUTHENTICATION set, let the two pprof calls through without it (SkyWalking Go agent 0.7).");
    }

    public Option<string?> Config { get; }

    public IEnumerable<Option> All => _settings.Select(s => s.Option).Prepend(Config);

    /// <summary>The flags given on this command line, as setting → (value, flag).</summary>
    public Dictionary<string, (string Value, string Flag)> Given(ParseResult parse)
    {
        var given = new Dictionary<string, (string, string)>(StringComparer.OrdinalIgnoreCase);
        foreach ((Option option, string setting) in _settings)
        {
            if (parse.GetResult(option) is { Implicit: false } result)
            {
                object? value = result.GetValueOrDefault<object>();
                string text = value is bool b ? (b ? "true" : "false") : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
                given[setting] = (text, option.Name);
            }
        }

        return given;
    }

    /// <summary>Loads the settings from every layer, this command line's flags last.</summary>
    public ServerSettings Load(ParseResult parse) => ServerSettings.Load(Given(parse), parse.GetValue(Config));

    private void Add<T>(string name, string setting, string description) =>
        _settings.Add((new Option<T>(name) { Description = description }, setting));
}
