namespace Flamewright.Server.Configuration;

/// <summary>
/// The environment variables SkyWalking users already set (docs/configuration.md), and the
/// server setting each one feeds. They work as they do for SkyWalking's OAP server.
/// </summary>
public static class SkyWalkingEnvironment
{
    /// <summary>Variable name → <see cref="ServerOptions"/> property.</summary>
    public static IReadOnlyList<(string Variable, string Setting)> Names { get; } =
    [
        ("SW_RECEIVER_PPROF", nameof(ServerOptions.PprofReceiver)),
        ("SW_CORE_GRPC_HOST", nameof(ServerOptions.GrpcHost)),
        ("SW_CORE_GRPC_PORT", nameof(ServerOptions.GrpcPort)),
        ("SW_CORE_REST_HOST", nameof(ServerOptions.HttpHost)),
        ("SW_CORE_REST_PORT", nameof(ServerOptions.HttpPort)),
        ("SW_RECEIVER_PPROF_MAX_SIZE", nameof(ServerOptions.MaxUploadBytes)),
        ("SW_RECEIVER_PPROF_MEMORY_PARSER_ENABLED", nameof(ServerOptions.MemoryParser)),
        ("SW_AUTHENTICATION", nameof(ServerOptions.Authentication)),
        ("SW_CORE_RECORD_DATA_TTL", nameof(ServerOptions.RecordTtlDays)),
        ("SW_STORAGE", nameof(ServerOptions.Storage)),
        ("SW_JDBC_URL", nameof(ServerOptions.JdbcUrl)),
        ("SW_DATA_SOURCE_USER", nameof(ServerOptions.DataSourceUser)),
        ("SW_DATA_SOURCE_PASSWORD", nameof(ServerOptions.DataSourcePassword)),
        // Not SkyWalking's (its OAP takes the JDBC form only), but named like its variables for the same audience.
        ("SW_STORAGE_POSTGRESQL_CONNECTION_STRING", nameof(ServerOptions.PostgresConnectionString)),
    ];
}
