using System.Reflection;
using Flamewright.Server.Storage;
using GraphQL;

namespace Flamewright.Server.Query;

/// <summary>
/// The <c>Query</c> fields around the pprof ones that SkyWalking's web UI and <c>swctl</c> ask (docs/skywalking-clients.md):
/// services, instances, the server's version and retention, the UI's menu and dashboards, and the empty answers of what
/// Flamewright does not receive (endpoints, processes, traces).
/// </summary>
#pragma warning disable CA1822 // GraphQL.NET binds resolvers of a schema written in SDL to instance methods only.
internal sealed partial class QueryResolvers
{
    /// <summary>
    /// The SkyWalking query protocol this server answers as. <c>swctl</c> reads the major and minor version of
    /// <c>version</c> to choose its documents (9 and later: the ones of today's schema).
    /// </summary>
    public const string SkyWalkingProtocolVersion = "10.4.0";

    /// <summary>What <c>version</c> answers: the protocol's version, then this build's.</summary>
    public static string Version { get; } = $"{SkyWalkingProtocolVersion}-flamewright-{BuildVersion()}";

    [GraphQLMetadata("version")]
    public string GetVersion() => Version;

    [GraphQLMetadata("listLayers")]
    public async Task<IReadOnlyList<string>> ListLayersAsync(IResolveFieldContext context)
    {
        IReadOnlyList<string> layers = await store.ListLayersAsync(context.CancellationToken).ConfigureAwait(false);
        return [.. layers.Take(options.MaxListItems)];
    }

    [GraphQLMetadata("listServices")]
    public async Task<IReadOnlyList<ServiceOutput>> ListServicesAsync(IResolveFieldContext context)
    {
        string? layer = context.GetArgument<string?>("layer");
        IReadOnlyList<ServiceRecord> services = await store.ListServicesAsync(
            string.IsNullOrEmpty(layer) ? null : layer, options.MaxListItems, context.CancellationToken).ConfigureAwait(false);
        return [.. services.Select(ToOutput)];
    }

    [GraphQLMetadata("getAllServices")]
    public async Task<IReadOnlyList<ServiceOutput>> GetAllServicesAsync(IResolveFieldContext context)
    {
        // As SkyWalking does, the duration is not used: every service is listed, of one group when a group is named.
        string? group = context.GetArgument<string?>("group");
        IReadOnlyList<ServiceRecord> services = await store.ListServicesAsync(null, options.MaxListItems, context.CancellationToken).ConfigureAwait(false);
        return [.. services.Select(ToOutput).Where(s => string.IsNullOrEmpty(group) || s.Group == group)];
    }

    [GraphQLMetadata("getService")]
    public async Task<ServiceOutput?> GetServiceAsync(IResolveFieldContext context)
    {
        ServiceRecord? service = await store.FindServiceAsync(context.GetArgument<string>("serviceId"), context.CancellationToken).ConfigureAwait(false);
        return service is null ? null : ToOutput(service);
    }

    [GraphQLMetadata("findService")]
    public async Task<ServiceOutput?> FindServiceAsync(IResolveFieldContext context)
    {
        string? name = context.GetArgument<string?>("serviceName");
        string? id = context.GetArgument<string?>("serviceId");
        ServiceRecord? service = (name, id) switch
        {
            (not null, _) => await store.FindServiceByNameAsync(name, context.CancellationToken).ConfigureAwait(false),
            (null, not null) => await store.FindServiceAsync(id, context.CancellationToken).ConfigureAwait(false),
            _ => throw new ExecutionError("findService needs serviceName"),
        };
        return service is null ? null : ToOutput(service);
    }

    [GraphQLMetadata("listInstances")]
    public async Task<IReadOnlyList<InstanceOutput>> ListInstancesAsync(IResolveFieldContext context)
    {
        DurationInput duration = context.GetArgument<DurationInput>("duration");
        string serviceId = context.GetArgument<string>("serviceId");
        long from;
        long to;
        try
        {
            (from, to) = SkyWalkingDuration.ToRange(duration, time.LocalTimeZone);
        }
        catch (FormatException e)
        {
            throw new ExecutionError(e.Message);
        }

        IReadOnlyList<InstanceRecord> instances = await store.ListInstancesAsync(serviceId, from, to, options.MaxListItems, context.CancellationToken).ConfigureAwait(false);
        return [.. instances.Select(ToOutput)];
    }

    [GraphQLMetadata("getInstance")]
    public async Task<InstanceOutput?> GetInstanceAsync(IResolveFieldContext context)
    {
        InstanceRecord? instance = await store.FindInstanceAsync(context.GetArgument<string>("instanceId"), context.CancellationToken).ConfigureAwait(false);
        return instance is null ? null : ToOutput(instance);
    }

    /// <summary>Flamewright's name before it followed SkyWalking's schema; kept one release (docs/server.md).</summary>
    [GraphQLMetadata("findInstance")]
    public Task<InstanceOutput?> FindInstanceAsync(IResolveFieldContext context) => GetInstanceAsync(context);

    [GraphQLMetadata("findEndpoint")]
    public IReadOnlyList<object> FindEndpoint() => [];

    [GraphQLMetadata("getEndpointInfo")]
    public object? GetEndpointInfo() => null;

    [GraphQLMetadata("listProcesses")]
    public IReadOnlyList<object> ListProcesses() => [];

    [GraphQLMetadata("getProcess")]
    public object? GetProcess() => null;

    [GraphQLMetadata("hasQueryTracesV2Support")]
    public bool HasQueryTracesV2Support() => false;

    [GraphQLMetadata("getTimeInfo")]
    public TimeInfoOutput GetTimeInfo()
    {
        DateTimeOffset now = time.GetLocalNow();
        // SkyWalking writes the offset as +HHmm.
        TimeSpan offset = now.Offset;
        string sign = offset < TimeSpan.Zero ? "-" : "+";
        offset = offset.Duration();
        return new TimeInfoOutput($"{sign}{offset.Hours:00}{offset.Minutes:00}", now.ToUnixTimeMilliseconds());
    }

    /// <summary>Every record (tasks, logs, uploads) is kept <see cref="Configuration.ServerOptions.RecordTtlDays"/>; there is no cold stage.</summary>
    [GraphQLMetadata("getRecordsTTL")]
    public RecordsTtlOutput GetRecordsTtl()
    {
        int days = options.RecordTtlDays;
        return new RecordsTtlOutput(days, days, days, days, days, NoColdStage, NoColdStage, NoColdStage, NoColdStage, NoColdStage);
    }

    /// <summary>
    /// Flamewright keeps no metrics; its metadata (services, instances) lives as long as its records, which is also how
    /// far back the web UI lets people pick a time range.
    /// </summary>
    [GraphQLMetadata("getMetricsTTL")]
    public MetricsTtlOutput GetMetricsTtl()
    {
        int days = options.RecordTtlDays;
        return new MetricsTtlOutput(days, days, days, days, NoColdStage, NoColdStage, NoColdStage);
    }

    [GraphQLMetadata("getMenuItems")]
    public Task<IReadOnlyList<MenuItemOutput>> GetMenuItemsAsync(IResolveFieldContext context) => dashboards.MenuAsync(context.CancellationToken);

    [GraphQLMetadata("getAllTemplates")]
    public async Task<IReadOnlyList<DashboardOutput>> GetAllTemplatesAsync(IResolveFieldContext context)
    {
        IReadOnlyList<DashboardTemplate> templates = await store.ListTemplatesAsync(options.MaxTemplates, context.CancellationToken).ConfigureAwait(false);
        return [.. templates.Select(t => new DashboardOutput(t.Id, t.Configuration))];
    }

    [GraphQLMetadata("getTemplate")]
    public async Task<DashboardOutput?> GetTemplateAsync(IResolveFieldContext context)
    {
        DashboardTemplate? template = await store.FindTemplateAsync(context.GetArgument<string>("id"), context.CancellationToken).ConfigureAwait(false);
        return template is null || template.Disabled ? null : new DashboardOutput(template.Id, template.Configuration);
    }

    /// <summary>SkyWalking's value of a cold-stage retention when there is no cold stage.</summary>
    private const int NoColdStage = -1;

    /// <summary>A service as SkyWalking describes it: a name <c>group::name</c> has that group and short name.</summary>
    private static ServiceOutput ToOutput(ServiceRecord s)
    {
        int split = s.Name.IndexOf("::", StringComparison.Ordinal);
        return split < 0
            ? new ServiceOutput(s.Id, s.Name, "", s.Name, [s.Layer], true)
            : new ServiceOutput(s.Id, s.Name, s.Name[..split], s.Name[(split + 2)..], [s.Layer], true);
    }

    private static InstanceOutput ToOutput(InstanceRecord i) =>
        new(i.Id, i.Name, [.. i.Properties.Select(p => new AttributeOutput(p.Key, p.Value))], i.Language, i.Id, i.Layer, i.LastSeen);

    /// <summary>This build's version without the commit the SDK appends after a <c>+</c>.</summary>
    private static string BuildVersion()
    {
        string informational = typeof(QueryResolvers).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }
}
#pragma warning restore CA1822
