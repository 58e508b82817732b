using System.Globalization;
using Flamewright.Server.Configuration;
using Npgsql;

namespace Flamewright.Server.Storage.Postgres;

/// <summary>
/// Turns the PostgreSQL settings into one Npgsql connection string: ours
/// (<see cref="ServerOptions.PostgresConnectionString"/>) or SkyWalking's JDBC URL with its user and password
/// (<c>SW_JDBC_URL</c>, <c>SW_DATA_SOURCE_USER</c>, <c>SW_DATA_SOURCE_PASSWORD</c>), so that an OAP server's
/// environment works unchanged.
/// </summary>
public static class PostgresConnection
{
    private const string JdbcPrefix = "jdbc:postgresql:";

    /// <summary>JDBC driver tuning with no Npgsql counterpart and no effect on what is stored: accepted and ignored.</summary>
    private static readonly HashSet<string> s_ignoredJdbcParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "rewriteBatchedInserts", "reWriteBatchedInserts", "prepareThreshold", "preparedStatementCacheQueries",
        "preparedStatementCacheSizeMiB", "defaultRowFetchSize", "binaryTransfer", "stringtype", "loggerLevel",
    };

    /// <summary>The connection string the settings describe.</summary>
    /// <exception cref="SettingsException">Neither form is set, or the one given does not parse; the message is one line.</exception>
    public static string Build(ServerOptions options)
    {
        NpgsqlConnectionStringBuilder builder;
        if (!string.IsNullOrWhiteSpace(options.PostgresConnectionString))
        {
            try
            {
                builder = new NpgsqlConnectionStringBuilder(options.PostgresConnectionString);
            }
            catch (ArgumentException e)
            {
                // Npgsql's message names the bad keyword and never echoes the password.
                throw new SettingsException($"{nameof(ServerOptions.PostgresConnectionString)}: {e.Message.ReplaceLineEndings(" ")}", e);
            }
        }
        else if (!string.IsNullOrWhiteSpace(options.JdbcUrl))
        {
            builder = FromJdbcUrl(options.JdbcUrl.Trim());
        }
        else
        {
            throw new SettingsException(
                "Storage postgresql needs a database: set PostgresConnectionString (SW_STORAGE_POSTGRESQL_CONNECTION_STRING) or SW_JDBC_URL");
        }

        if (string.IsNullOrEmpty(builder.Host))
        {
            throw new SettingsException($"{nameof(ServerOptions.PostgresConnectionString)}: no Host given");
        }

        // SkyWalking's user and password fill in what the URL or connection string leaves out.
        if (string.IsNullOrEmpty(builder.Username) && !string.IsNullOrEmpty(options.DataSourceUser))
        {
            builder.Username = options.DataSourceUser;
        }

        if (string.IsNullOrEmpty(builder.Password) && !string.IsNullOrEmpty(options.DataSourcePassword))
        {
            builder.Password = options.DataSourcePassword;
        }

        // The pool bounds this node's share of the server's max_connections (docs/deployment.md); a connection
        // string that sets its own keeps it.
        if (!SetsPoolSize(options.PostgresConnectionString))
        {
            builder.MaxPoolSize = options.PostgresMaxPoolSize;
        }

        builder.ApplicationName ??= "flamewright";
        return builder.ConnectionString;
    }

    /// <summary>Whether a connection string names its own pool size (Npgsql's builder reports every keyword as present).</summary>
    private static bool SetsPoolSize(string connectionString)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return given.Keys.Cast<string>().Any(k => k.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant() is "MAXIMUMPOOLSIZE" or "MAXPOOLSIZE");
    }

    /// <summary>
    /// Reads <c>jdbc:postgresql://host[:port][,host[:port]…]/database[?key=value&amp;…]</c>, the form SkyWalking
    /// documents (<c>jdbc:postgresql://localhost:5432/skywalking</c>), into Npgsql's settings.
    /// </summary>
    internal static NpgsqlConnectionStringBuilder FromJdbcUrl(string url)
    {
        if (!url.StartsWith(JdbcPrefix + "//", StringComparison.OrdinalIgnoreCase))
        {
            throw Bad("expected jdbc:postgresql://host:port/database");
        }

        string rest = url[(JdbcPrefix.Length + 2)..];
        string query = "";
        int question = rest.IndexOf('?', StringComparison.Ordinal);
        if (question >= 0)
        {
            query = rest[(question + 1)..];
            rest = rest[..question];
        }

        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string hostList = slash >= 0 ? rest[..slash] : rest;
        string database = slash >= 0 ? Uri.UnescapeDataString(rest[(slash + 1)..]) : "";
        // user:password@host, as libpq's URLs write it: the last @ ends the credentials (a password may hold @).
        string? user = null, password = null;
        int at = hostList.LastIndexOf('@');
        if (at >= 0)
        {
            string credentials = hostList[..at];
            hostList = hostList[(at + 1)..];
            int colon = credentials.IndexOf(':', StringComparison.Ordinal);
            user = Uri.UnescapeDataString(colon >= 0 ? credentials[..colon] : credentials);
            password = colon >= 0 ? Uri.UnescapeDataString(credentials[(colon + 1)..]) : null;
        }

        if (database.IndexOfAny([';', '/', '?', '@']) >= 0)
        {
            // jdbc:postgresql://host/db;password=… is not a JDBC URL, and its "database" would be printed.
            throw Bad("the database name holds ';', '/', '?' or '@': parameters follow '?' (…/database?user=…&password=…)");
        }
        var hosts = new List<string>();
        foreach (string hostPort in hostList.Split(',', StringSplitOptions.TrimEntries))
        {
            hosts.Add(JdbcHost(hostPort));
        }

        var builder = new NpgsqlConnectionStringBuilder();
        // One host takes Host and Port apart; a list keeps each host's port beside it, as Npgsql reads lists.
        if (hosts.Count == 1 && hosts[0].Split(':') is [string host, string port])
        {
            builder.Host = host;
            builder.Port = int.Parse(port, CultureInfo.InvariantCulture);
        }
        else
        {
            builder.Host = string.Join(',', hosts);
        }

        if (database.Length > 0)
        {
            builder.Database = database;
        }

        if (!string.IsNullOrEmpty(user))
        {
            builder.Username = user;
        }

        if (password is not null)
        {
            builder.Password = password;
        }

        foreach (string pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            string key = Uri.UnescapeDataString(equals >= 0 ? pair[..equals] : pair);
            string value = equals >= 0 ? Uri.UnescapeDataString(pair[(equals + 1)..]) : "";
            ApplyJdbcParameter(builder, key, value);
        }

        return builder;
    }

    private static string JdbcHost(string hostPort)
    {
        if (hostPort.Length == 0)
        {
            return "localhost";
        }

        // [::1]:5432, host:5432, host
        string host = hostPort;
        string? port = null;
        if (hostPort.StartsWith('['))
        {
            int close = hostPort.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw Bad("a host in brackets has no closing ']'");
            }

            host = hostPort[1..close];
            if (close + 1 < hostPort.Length)
            {
                port = hostPort[(close + 1)..].TrimStart(':');
            }
        }
        else if (hostPort.IndexOf(':', StringComparison.Ordinal) is int colon and >= 0)
        {
            host = hostPort[..colon];
            port = hostPort[(colon + 1)..];
        }

        if (host.Contains(':', StringComparison.Ordinal))
        {
            // An IPv6 address: Npgsql reads it bracketed when a port follows.
            return port is null ? host : $"[{host}]:{Port(port)}";
        }

        return port is null ? host : $"{host}:{Port(port)}";
    }

    private static int Port(string port)
    {
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number is < 1 or > 65535)
        {
            throw Bad("a port is not a number between 1 and 65535");
        }

        return number;
    }

    private static void ApplyJdbcParameter(NpgsqlConnectionStringBuilder builder, string key, string value)
    {
        switch (key.ToUpperInvariant())
        {
            case "USER":
                builder.Username = value;
                break;
            case "PASSWORD":
                builder.Password = value;
                break;
            case "SSLMODE":
                builder.SslMode = value.ToUpperInvariant() switch
                {
                    "DISABLE" => SslMode.Disable,
                    "ALLOW" => SslMode.Allow,
                    "PREFER" => SslMode.Prefer,
                    "REQUIRE" => SslMode.Require,
                    "VERIFY-CA" => SslMode.VerifyCA,
                    "VERIFY-FULL" => SslMode.VerifyFull,
                    _ => throw Bad("sslmode is not one of disable, allow, prefer, require, verify-ca, verify-full"),
                };
                break;
            case "SSL":
                // The JDBC driver's ssl=true means verify-full; false leaves TLS off.
                builder.SslMode = bool.TryParse(value, out bool ssl) && ssl ? SslMode.VerifyFull : SslMode.Disable;
                break;
            case "CONNECTTIMEOUT":
                builder.Timeout = Seconds(key, value);
                break;
            case "SOCKETTIMEOUT":
                builder.CommandTimeout = Seconds(key, value);
                break;
            case "CURRENTSCHEMA":
                builder.SearchPath = value;
                break;
            case "APPLICATIONNAME":
                builder.ApplicationName = value;
                break;
            case "TCPKEEPALIVE":
                builder.TcpKeepAlive = bool.TryParse(value, out bool keepAlive) && keepAlive;
                break;
            case "LOADBALANCEHOSTS":
                builder.LoadBalanceHosts = bool.TryParse(value, out bool balance) && balance;
                break;
            case "TARGETSERVERTYPE":
                builder.TargetSessionAttributes = value.ToUpperInvariant() switch
                {
                    "ANY" => "any",
                    "PRIMARY" or "MASTER" => "primary",
                    "SECONDARY" or "SLAVE" => "standby",
                    "PREFERSECONDARY" or "PREFERSLAVE" => "prefer-standby",
                    "PREFERPRIMARY" => "prefer-primary",
                    _ => throw Bad("targetServerType is not one of any, primary, secondary, preferSecondary, preferPrimary"),
                };
                break;
            default:
                if (!s_ignoredJdbcParameters.Contains(key))
                {
                    // A key is named only when it looks like one: a stray value may be a password.
                    string named = key.Length <= 40 && key.All(char.IsAsciiLetterOrDigit) ? $"parameter '{key}'" : "a parameter";
                    throw Bad($"{named} is not understood (use PostgresConnectionString for Npgsql's own settings)");
                }

                break;
        }
    }

    private static int Seconds(string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int seconds)
            ? seconds
            : throw Bad($"{key} is not a whole number of seconds");

    // The URL may carry a password anywhere a typo puts it: messages name the setting and what is wrong, and quote
    // no part of the URL.
    private static SettingsException Bad(string reason) => new($"SW_JDBC_URL: {reason}");

    /// <summary>
    /// A JDBC URL as <c>config show</c> prints it: the password of <c>user:password@host</c> and the value of any
    /// <c>password=</c>, after <c>?</c>, <c>&amp;</c> or <c>;</c>, replaced.
    /// </summary>
    public static string MaskedJdbcUrl(string url)
    {
        string masked = System.Text.RegularExpressions.Regex.Replace(url, "(?i)([?&;]password=)[^&;]*", "$1****");
        return System.Text.RegularExpressions.Regex.Replace(masked, "^(?i)(jdbc:postgresql://[^/@]*?:)[^/]*@", "$1****@");
    }

    /// <summary>A connection string as <c>config show</c> prints it: the password replaced.</summary>
    public static string Masked(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return connectionString;
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (!string.IsNullOrEmpty(builder.Password))
            {
                builder.Password = "****";
            }

            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return "(set, does not parse)";
        }
    }
}
