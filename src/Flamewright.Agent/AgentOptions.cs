namespace Flamewright.Agent;

/// <summary>Every setting of <c>flamewright agent</c>, with its default and the reason for it.</summary>
public sealed class AgentOptions
{
    /// <summary>Server gRPC addresses (<c>host:port</c>), tried in order; the agent fails over to the next when one is down.</summary>
    public IReadOnlyList<string> Servers { get; set; } = ["127.0.0.1:11800"];

    /// <summary>Service name, as tasks name it.</summary>
    public string Service { get; set; } = "";

    /// <summary>Instance name; default: the host name.</summary>
    public string Instance { get; set; } = Environment.MachineName;

    /// <summary>Base address of the Go service's <c>net/http/pprof</c> handlers.</summary>
    public Uri Target { get; set; } = new("http://127.0.0.1:6060");

    /// <summary>Agent token sent as gRPC metadata <c>authentication</c> on every call; empty: none.</summary>
    public string Token { get; set; } = "";

    /// <summary>Time between two task polls: the Go agent's 20 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Time between two keepAlive calls: the Go agent's 10 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long "one minute" of a task lasts. Always 60 s in use; tests shorten it (e.g. to 2 s) so that CPU,
    /// BLOCK and MUTEX tasks run in seconds. Settable only through the hidden test flag.
    /// </summary>
    public TimeSpan TaskMinute { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Deadline of one upload: the Go agent's 60 s.</summary>
    public TimeSpan UploadTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Size of the content chunks: the Go agent's 1 MiB.</summary>
    public int ChunkBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest profile the agent uploads, in bytes: the server's default limit (30 MiB); larger ones are reported as errors.</summary>
    public long MaxProfileBytes { get; set; } = 30L * 1024 * 1024;

    /// <summary>Attempts to upload a finished profile while servers are unreachable, before it is given up.</summary>
    public int UploadAttempts { get; set; } = 5;

    /// <summary>Deadline of one registration, keepAlive or poll call: a server that takes longer is treated as down.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First wait after a failed call or upload; it doubles up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan MinBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between two attempts to reach a server (backoff doubles up to this).</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time the target may take beyond a profile's own duration before the collection is given up.</summary>
    public TimeSpan TargetGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Every problem with the settings, one line each.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Servers.Count == 0 || Servers.Any(s => !TryParseServer(s, out _)))
        {
            problems.Add("--server must list host:port addresses, comma-separated");
        }

        if (string.IsNullOrWhiteSpace(Service))
        {
            problems.Add("--service is required");
        }

        if (string.IsNullOrWhiteSpace(Instance))
        {
            problems.Add("--instance must not be empty");
        }

        if (!Target.IsAbsoluteUri || Target.Scheme is not ("http" or "https"))
        {
            problems.Add("--target must be an http:// address");
        }

        if (PollInterval <= TimeSpan.Zero || KeepAliveInterval <= TimeSpan.Zero || TaskMinute <= TimeSpan.Zero)
        {
            problems.Add("intervals must be positive");
        }

        if (UploadAttempts < 1)
        {
            problems.Add("UploadAttempts must be 1 or more");
        }

        return problems;
    }

    /// <summary>Parses <c>host:port</c> (or a full http:// address) into the address gRPC dials.</summary>
    public static bool TryParseServer(string text, out Uri address)
    {
        string candidate = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        if (Uri.TryCreate(candidate, UriKind.Absolute, out Uri? parsed) && parsed.Scheme is "http" or "https" && !parsed.IsDefaultPort)
        {
            address = parsed;
            return true;
        }

        address = null!;
        return false;
    }
}
