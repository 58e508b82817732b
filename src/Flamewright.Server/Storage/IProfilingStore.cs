using Flamewright.Server.Tasks;

namespace Flamewright.Server.Storage;

/// <summary>
/// Everything the server keeps: services and instances as agents report them, tasks, their logs, and the
/// uploaded profiles. One interface for every provider; each method is one transaction.
/// </summary>
public interface IProfilingStore
{
    /// <summary>Creates or upgrades the schema to the version this build knows.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>Records that an instance is alive; its properties replace the stored ones when given.</summary>
    Task RecordInstanceAsync(InstanceHeartbeat heartbeat, CancellationToken cancellationToken);

    /// <summary>The layers services were seen in, each once, in order.</summary>
    Task<IReadOnlyList<string>> ListLayersAsync(CancellationToken cancellationToken);

    /// <summary>Services of <paramref name="layer"/> (any case; every layer when null) by name, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<ServiceRecord>> ListServicesAsync(string? layer, int limit, CancellationToken cancellationToken);

    Task<ServiceRecord?> FindServiceAsync(string serviceId, CancellationToken cancellationToken);

    /// <summary>
    /// A service's instances alive during [from, to) (epoch ms): first seen before its end, last seen after its start;
    /// by name, at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<InstanceRecord>> ListInstancesAsync(string serviceId, long from, long to, int limit, CancellationToken cancellationToken);

    Task<InstanceRecord?> FindInstanceAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a task unless the service already profiles the same event (a task whose profiling ends after
    /// <paramref name="now"/>); the check and the insert are one atomic step. A task id taken by another task
    /// created in the same millisecond moves the create time on by a millisecond.
    /// </summary>
    /// <returns>The stored task (its id and create time may differ from the one given), or <c>null</c> when already profiling.</returns>
    Task<ProfilingTask?> TryCreateTaskAsync(ProfilingTask task, long now, CancellationToken cancellationToken);

    Task<ProfilingTask?> FindTaskAsync(string taskId, CancellationToken cancellationToken);

    /// <summary>A service's tasks created in [from, to) (epoch ms), newest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<ProfilingTask>> ListTasksAsync(string serviceId, long from, long to, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// The dispatch rule: among the service's tasks still dispatchable at <paramref name="now"/>, naming this
    /// instance, created after <paramref name="lastCommandTime"/>, the oldest.
    /// </summary>
    Task<ProfilingTask?> NextTaskAsync(string serviceId, string instanceId, long lastCommandTime, long now, CancellationToken cancellationToken);

    Task AppendLogAsync(TaskLog log, CancellationToken cancellationToken);

    /// <summary>A task's log, oldest first.</summary>
    Task<IReadOnlyList<TaskLog>> ListLogsAsync(string taskId, CancellationToken cancellationToken);

    /// <summary>
    /// Stores an instance's profile for a task, replacing an earlier one, and writes <paramref name="finished"/>
    /// in the same transaction: the log never says finished for a profile that is not there. A replacing upload's
    /// <see cref="UploadInfo.UploadedAt"/> is always later than the replaced one's, so that it identifies the bytes.
    /// </summary>
    Task SaveUploadAsync(StoredUpload upload, TaskLog finished, CancellationToken cancellationToken);

    /// <summary>What a task's uploads are, without their bytes.</summary>
    Task<IReadOnlyList<UploadInfo>> ListUploadsAsync(string taskId, CancellationToken cancellationToken);

    /// <summary>One upload's profile bytes (gzip-compressed profile.proto), or <c>null</c>.</summary>
    Task<byte[]?> ReadUploadAsync(string taskId, string instanceId, CancellationToken cancellationToken);

    /// <summary>
    /// The digest stored with an upload (see docs/digest.md) and the upload time it belongs to; <see cref="StoredDigest.Digest"/>
    /// is <c>null</c> for an upload stored without one. <c>null</c> when the upload is gone.
    /// </summary>
    Task<StoredDigest?> ReadDigestAsync(string taskId, string instanceId, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a digest built later for an upload (it had none, or one that could not be read), if the upload is still
    /// the one of <paramref name="uploadedAt"/>; an upload replaced meanwhile keeps its own.
    /// </summary>
    Task SaveDigestAsync(string taskId, string instanceId, long uploadedAt, byte[] digest, CancellationToken cancellationToken);

    /// <summary>A view of a task kept by <see cref="SaveViewAsync"/> (a tree digest, docs/digest.md), or <c>null</c>.</summary>
    Task<byte[]?> ReadViewAsync(string taskId, string viewKey, CancellationToken cancellationToken);

    /// <summary>The task of the view kept last, or <c>null</c> when none is kept: what a starting server warms up with.</summary>
    Task<string?> NewestKeptViewTaskAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Keeps a built view of a task (its default flame tree) for restarts and other nodes, replacing one of the same key,
    /// if the task's uploads are still those it was built from (<paramref name="uploads"/> of them, the newest stored at
    /// <paramref name="newestUpload"/>): a view built while an instance uploaded again is not kept. A task's views are
    /// dropped whenever one of its instances uploads again, and with the task.
    /// </summary>
    Task SaveViewAsync(string taskId, string viewKey, byte[] view, int uploads, long newestUpload, CancellationToken cancellationToken);

    /// <summary>Deletes tasks created, and instances last seen, before <paramref name="cutoff"/>; returns the number of tasks.</summary>
    Task<int> DeleteExpiredAsync(long cutoff, CancellationToken cancellationToken);

    /// <summary>The service of that name, or <c>null</c>.</summary>
    Task<ServiceRecord?> FindServiceByNameAsync(string name, CancellationToken cancellationToken);

    /// <summary>The web UI's dashboard templates that are not disabled, least recently changed first (docs/skywalking-clients.md).</summary>
    Task<IReadOnlyList<DashboardTemplate>> ListTemplatesAsync(int limit, CancellationToken cancellationToken);

    /// <summary>The template of that id, disabled or not, or <c>null</c>.</summary>
    Task<DashboardTemplate?> FindTemplateAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a new template; <c>false</c> when one of that id is stored already or <paramref name="maxTemplates"/> are
    /// stored, disabled ones included (nothing changes then).
    /// </summary>
    Task<bool> AddTemplateAsync(string id, string configuration, int maxTemplates, long now, CancellationToken cancellationToken);

    /// <summary>Replaces a template's configuration; <c>false</c> when no template that is not disabled has that id.</summary>
    Task<bool> ChangeTemplateAsync(string id, string configuration, long now, CancellationToken cancellationToken);

    /// <summary>Disables a template (it is kept, and no longer listed); <c>false</c> when no template that is not disabled has that id.</summary>
    Task<bool> DisableTemplateAsync(string id, long now, CancellationToken cancellationToken);

    /// <summary>
    /// Stores each of <paramref name="templates"/> whose id is not stored yet, disabled or not, so that what people changed
    /// or disabled stays so; returns how many were added.
    /// </summary>
    Task<int> SeedTemplatesAsync(IReadOnlyList<DashboardTemplate> templates, long now, CancellationToken cancellationToken);
}

/// <summary>A dashboard of SkyWalking's web UI as it stores it: an id and the dashboard as JSON text, which the server does not interpret.</summary>
public sealed record DashboardTemplate(string Id, string Configuration, bool Disabled = false);

/// <summary>An agent's report about its instance.</summary>
/// <param name="Properties">Replaces the stored properties when not <c>null</c> (reportInstanceProperties); keepAlive sends none.</param>
public sealed record InstanceHeartbeat(string ServiceName, string InstanceName, string Layer, IReadOnlyList<KeyValuePair<string, string>>? Properties, long Now);

public sealed record ServiceRecord(string Id, string Name, string Layer, long FirstSeen, long LastSeen);

public sealed record InstanceRecord(
    string Id,
    string ServiceId,
    string Name,
    string Layer,
    IReadOnlyList<KeyValuePair<string, string>> Properties,
    long FirstSeen,
    long LastSeen)
{
    /// <summary>The language the agent reported (<c>language</c> property), upper case as SkyWalking's enum; UNKNOWN when absent.</summary>
    public string Language
    {
        get
        {
            string? value = Properties.FirstOrDefault(p => string.Equals(p.Key, "language", StringComparison.OrdinalIgnoreCase)).Value;
            string upper = value?.Trim().ToUpperInvariant() ?? "";
            return upper switch
            {
                "JAVA" or "DOTNET" or "NODEJS" or "PYTHON" or "RUBY" or "GO" or "LUA" or "PHP" => upper,
                "GOLANG" => "GO",
                _ => "UNKNOWN",
            };
        }
    }
}

/// <summary>
/// An uploaded profile as stored: gzip-compressed profile.proto plus what listing it needs, and its digest for the
/// analyses (<c>null</c> when it could not be built: analyses then build it from the profile).
/// </summary>
/// <param name="SampleTypes">The profile's sample types, <c>type/unit</c>, comma separated, in the profile's order.</param>
public sealed record StoredUpload(
    string TaskId,
    string InstanceId,
    string InstanceName,
    long UploadedAt,
    long DecompressedBytes,
    long SampleCount,
    string SampleTypes,
    byte[] Profile,
    byte[]? Digest = null);

/// <summary>An upload's digest (<c>null</c> when it has none) and the upload time it belongs to.</summary>
public sealed record StoredDigest(long UploadedAt, byte[]? Digest);

/// <summary>An upload without its bytes.</summary>
public sealed record UploadInfo(
    string TaskId,
    string InstanceId,
    string InstanceName,
    long UploadedAt,
    long CompressedBytes,
    long DecompressedBytes,
    long SampleCount,
    string SampleTypes);
