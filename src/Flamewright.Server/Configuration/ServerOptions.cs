using Flamewright.Server.Storage.Postgres;

namespace Flamewright.Server.Configuration;

/// <summary>
/// Every setting of <c>flamewright server</c>, with its default and the reason for it. Bound from the
/// <c>Server</c> section of appsettings.json, <c>FLAMEWRIGHT_SERVER__*</c> and the SkyWalking environment
/// variables (<see cref="SkyWalkingEnvironment"/>), then flags; <c>flamewright config show</c> prints the result.
/// </summary>
public sealed class ServerOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string Section = "Server";

    /// <summary>Smallest <see cref="MaxAgentMessageBytes"/>: a Go agent's 1 MiB chunk with room for its framing.</summary>
    public const int MinAgentMessageBytes = 1024 * 1024 + 1024;

    /// <summary>
    /// Address the agent gRPC port listens on. Loopback by default, so that a first <c>flamewright server</c>
    /// exposes nothing; agents on other hosts need <c>0.0.0.0</c> (SkyWalking's own default).
    /// </summary>
    public string GrpcHost { get; set; } = "127.0.0.1";

    /// <summary>Agent gRPC port (HTTP/2 cleartext), SkyWalking's 11800; 0 picks a free port.</summary>
    public int GrpcPort { get; set; } = 11800;

    /// <summary>Address the HTTP port (GraphQL, REST, UI) listens on; loopback by default, like <see cref="GrpcHost"/>.</summary>
    public string HttpHost { get; set; } = "127.0.0.1";

    /// <summary>HTTP port for GraphQL, REST downloads, <c>/healthz</c> and the UI, SkyWalking's 12800; 0 picks a free port.</summary>
    public int HttpPort { get; set; } = 12800;

    /// <summary>Where the embedded database and temporary uploads live.</summary>
    public string DataDir { get; set; } = "data";

    /// <summary>
    /// Storage provider: <c>sqlite</c> (embedded, one node, in <see cref="DataDir"/>) or <c>postgresql</c>
    /// (shared by several nodes; see <see cref="PostgresConnectionString"/>).
    /// </summary>
    public string Storage { get; set; } = "sqlite";

    /// <summary>Npgsql connection string of the PostgreSQL database, when <see cref="Storage"/> is <c>postgresql</c>.</summary>
    public string PostgresConnectionString { get; set; } = "";

    /// <summary>SkyWalking's <c>SW_JDBC_URL</c> (<c>jdbc:postgresql://host:5432/db</c>): used when no connection string is set.</summary>
    public string JdbcUrl { get; set; } = "";

    /// <summary>SkyWalking's <c>SW_DATA_SOURCE_USER</c>: the database user, when the connection string or URL names none.</summary>
    public string DataSourceUser { get; set; } = "";

    /// <summary>SkyWalking's <c>SW_DATA_SOURCE_PASSWORD</c>: the password, when the connection string or URL gives none.</summary>
    public string DataSourcePassword { get; set; } = "";

    /// <summary>
    /// Most connections this node opens to PostgreSQL. Agent calls hold one for a few milliseconds and an upload
    /// for one transaction, so 20 carries hundreds of agents; nodes × this must stay under the server's
    /// max_connections (100 by default), which 20 leaves room for with four nodes and an administrator.
    /// </summary>
    public int PostgresMaxPoolSize { get; set; } = 20;

    /// <summary>
    /// Seconds the server keeps trying to reach its database at start before giving up. Nodes and PostgreSQL
    /// often start together (a compose file, a rollout); half a minute covers a database's own start.
    /// </summary>
    public int StorageStartTimeoutSeconds { get; set; } = 30;

    /// <summary>SkyWalking's <c>SW_RECEIVER_PPROF</c>: <c>default</c> serves the pprof agent service, <c>-</c> turns it off.</summary>
    public string PprofReceiver { get; set; } = "default";

    /// <summary>
    /// Largest profile an agent may upload, in bytes: SkyWalking's 30 MiB. Checked against the declared size
    /// and against the bytes actually received.
    /// </summary>
    public long MaxUploadBytes { get; set; } = 30L * 1024 * 1024;

    private const long Megabyte = 1024 * 1024;

    /// <summary>Keep an upload in memory while it arrives (true) or in a temporary file under the data directory (false).</summary>
    public bool MemoryParser { get; set; } = true;

    /// <summary>Agent token (gRPC metadata <c>authentication</c>); empty: agents need none.</summary>
    public string Authentication { get; set; } = "";

    /// <summary>
    /// Let <c>getPprofTaskCommands</c> and <c>collect</c> through without the token. The SkyWalking Go agent 0.7
    /// sends its token on management calls only, so with a token set its pprof calls fail unless this is on.
    /// Off by default: a token that guards only half of the agent surface would be a false promise.
    /// </summary>
    public bool AllowPprofWithoutToken { get; set; }

    /// <summary>
    /// Token for GraphQL, REST and the UI's data (<c>Authorization: Bearer …</c>): queries and task creation.
    /// Empty (default) leaves the HTTP API open, which suits the default loopback bind; set it (and perhaps
    /// <see cref="ReadOnlyApiToken"/>) before binding <see cref="HttpHost"/> to other interfaces.
    /// </summary>
    public string ApiToken { get; set; } = "";

    /// <summary>Token for viewers: queries and downloads, no task creation.</summary>
    public string ReadOnlyApiToken { get; set; } = "";

    /// <summary>
    /// Deepest GraphQL selection accepted. SkyWalking's and our queries nest 5 levels; GraphQL's standard
    /// introspection query nests 13; 20 leaves room for both and stops queries built to nest without end.
    /// </summary>
    public int GraphQLMaxDepth { get; set; } = 20;

    /// <summary>
    /// Largest GraphQL complexity accepted (a field 1, a list × 5, an analysis 200: see
    /// <c>GraphQLEndpoint.AnalysisImpact</c>; introspection is not counted). The UI's heaviest request (a tree,
    /// a top table and a diff) counts 947 and one analysis about 300: 2,000 admits the first twice over and
    /// refuses a request for more than six analyses at once.
    /// </summary>
    public int GraphQLMaxComplexity { get; set; } = 2_000;

    /// <summary>
    /// Most selections (fields, fragment spreads, inline fragments) a GraphQL document may hold as written. Checked
    /// before any validation rule runs: GraphQL.NET compares repeated fields pairwise, so a document of 20,000 copies
    /// of one field took half a minute to refuse. The largest real document, GraphQL's standard introspection query,
    /// holds about 100; SkyWalking's UI and ours stay under 60.
    /// </summary>
    public int GraphQLMaxFields { get; set; } = 1_000;

    /// <summary>
    /// Most selections a GraphQL document may expand to once each fragment spread is replaced by its fragment.
    /// Measured without expanding (each fragment is sized once), so a 1 KB document whose fragments each spread
    /// the previous one twice, 2^24 fields, is refused in microseconds instead of taking minutes of validation.
    /// The standard introspection query expands to about 300.
    /// </summary>
    public int GraphQLMaxExpandedFields { get; set; } = 2_000;

    /// <summary>
    /// Host names, besides IP addresses and <c>localhost</c>, that requests to the HTTP port may name in their
    /// <c>Host</c> header, comma-separated: <c>profiler.example.com</c>, <c>*.example.com</c>, or <c>*</c> for any.
    /// A page on another site could otherwise resolve its own name to this server (DNS rebinding) and read the
    /// answers with the browser of someone who can reach it. Empty: IP addresses and localhost names only.
    /// </summary>
    public string AllowedHosts { get; set; } = "";

    /// <summary>
    /// Origins, besides the server's own, whose pages may call the HTTP API from a browser, comma-separated
    /// (<c>https://skywalking-ui.example.com:8080</c>, or <c>*</c> for any). A request that carries an
    /// <c>Origin</c> header naming another site is refused, so that a page a user visits cannot create tasks or
    /// read profiles with the user's access. Requests without <c>Origin</c> (swctl, curl, proxies that drop it)
    /// are not affected.
    /// </summary>
    public string AllowedOrigins { get; set; } = "";

    /// <summary>
    /// Seconds one request's focus and ignore patterns may spend matching names, all names together. Matching is
    /// linear in each name, so real patterns take milliseconds on the largest profiles; the budget ends a request
    /// whose patterns would otherwise hold an analysis turn for minutes, and other users wait for those turns.
    /// </summary>
    public int AnalysisFilterSeconds { get; set; } = 10;

    /// <summary>Most instances one task may name: far above a service's real fleet, low enough to bound a task's rows and an analysis's merge.</summary>
    public int MaxInstancesPerTask { get; set; } = 1_000;

    /// <summary>Most rows any list answer holds (tasks of a service, rows of a top table, …) whatever the request asks.</summary>
    public int MaxListItems { get; set; } = 10_000;

    /// <summary>
    /// Largest dashboard configuration of SkyWalking's web UI (UTF-8 bytes) that <c>addTemplate</c> and
    /// <c>changeTemplate</c> store; the largest SkyWalking ships is about 60 KiB.
    /// </summary>
    public int MaxTemplateBytes { get; set; } = 262_144;

    /// <summary>Most dashboard templates stored, disabled ones included: <c>addTemplate</c> past it is refused.</summary>
    public int MaxTemplates { get; set; } = 1_000;

    /// <summary>Days a task, its logs, its uploads and an idle instance are kept: SkyWalking's 3.</summary>
    public int RecordTtlDays { get; set; } = 3;

    /// <summary>Minutes between two passes that delete expired records.</summary>
    public int RetentionCheckMinutes { get; set; } = 60;

    /// <summary>
    /// Minutes after creation during which a task is dispatched to agents, at least. A task with a longer
    /// duration stays dispatchable for its whole duration. SkyWalking's 5 minutes, which it applies to every task.
    /// </summary>
    public int TaskDispatchMinutes { get; set; } = 5;

    /// <summary>
    /// Seconds an upload may take from its first message to its end before the server gives up. The Go agent
    /// allows itself 60 s; twice that leaves room for slow links without holding a stream open forever.
    /// </summary>
    public int UploadTimeoutSeconds { get; set; } = 120;

    /// <summary>
    /// Seconds a collect stream may go without a message before the server ends it. The Go agent sends its
    /// metadata as soon as the stream opens and its 1 MiB chunks back to back, so a gap this long means a dead or
    /// stalled peer; ending it frees the stream's buffer long before <see cref="UploadTimeoutSeconds"/>.
    /// </summary>
    public int UploadIdleTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Uploads received at once, from the metadata until the profile is stored; more wait in line for
    /// <see cref="UploadQueueSeconds"/>. 64 is above the 50 agents uploading at the same moment of the ingest benchmark; agents poll
    /// every 20 s, so real uploads spread out, and a typical profile arrives in milliseconds.
    /// </summary>
    public int MaxConcurrentUploads { get; set; } = 64;

    /// <summary>
    /// Memory the uploads being received may take together, in MiB, when <see cref="MemoryParser"/> keeps them in
    /// memory: each reserves the size it declared, and one that does not fit waits in line (first come, first
    /// served). 512 holds 17 profiles at the 30 MiB limit, or hundreds of ordinary ones, at once; without it 64
    /// uploads at the limit would hold 1.9 GiB before any parse began. It must hold one upload of
    /// <see cref="MaxUploadBytes"/>.
    /// </summary>
    public int MaxUploadMemoryMegabytes { get; set; } = 512;

    /// <summary><see cref="MaxUploadMemoryMegabytes"/> in bytes.</summary>
    public long MaxUploadMemoryBytes => MaxUploadMemoryMegabytes * Megabyte;

    /// <summary>
    /// Seconds an upload waits in line for one of <see cref="MaxConcurrentUploads"/> and for
    /// <see cref="MaxUploadMemoryMegabytes"/> before it is refused with RESOURCE_EXHAUSTED (0: refused at once).
    /// The Go agent waits for the server's answer to its metadata before it sends a byte, and allows its whole
    /// upload 60 s: 20 s of waiting leaves it the rest to send.
    /// </summary>
    public int UploadQueueSeconds { get; set; } = 20;

    /// <summary>
    /// Uploaded profiles parsed at once to check them before they are stored; the others wait their turn. A parse
    /// is all CPU and, for a hostile profile, may build up to four times <see cref="MaxDecompressedBytes"/> of model
    /// before it is refused: parsing more at once than there are cores is not faster, only larger.
    /// </summary>
    public int MaxConcurrentParses { get; set; } = 2;

    /// <summary>
    /// Linux nice value (0 to 19) of the threads doing work nobody waits to see: parsing uploads and making their
    /// digests, digests made after an analysis decoded an upload, default views written to storage. Above 0, when such
    /// work and analyses both want the CPU, the analyses, which a person waits for, get most of it, and uploads wait a
    /// little longer in their line (agents are told of a wait past <see cref="UploadQueueSeconds"/>, never lose an
    /// upload); on an idle server it changes nothing. 0 gives it the same share as everything else. Ignored off Linux.
    /// </summary>
    public int BackgroundNiceness { get; set; } = 10;

    /// <summary>
    /// Most heaps the C library (glibc) may keep for the process's native allocations: SQLite's reads of large uploads
    /// and digests, zlib. glibc's default, up to eight per core, keeps what each freed for reuse and grew a loaded server
    /// by 0.6 GiB; 2 keeps it near the managed heap. 0 leaves glibc's default. Process-wide; ignored off Linux.
    /// </summary>
    public int NativeHeapArenas { get; set; } = 2;

    /// <summary>
    /// Native allocations of at least this many KiB get memory of their own, given back to the system when freed
    /// (glibc's <c>M_MMAP_THRESHOLD</c>, fixed). glibc's own threshold starts at 128 KiB and rises to the largest block
    /// freed, up to 32 MiB, after which SQLite's copies of 15–30 MiB uploads and digests were kept in its heaps: about
    /// 0.3 GiB of a loaded server's resident memory (benchmarks/README.md). 0 leaves glibc's default. Process-wide;
    /// ignored off Linux.
    /// </summary>
    public int NativeHeapMapThresholdKilobytes { get; set; } = 1024;

    /// <summary>The largest threshold glibc raises its own to on 64-bit machines (32 MiB): beyond it, nothing is gained.</summary>
    internal const int MaxNativeHeapMapThresholdKilobytes = 32 * 1024;

    /// <summary>
    /// Most memory the runtime's managed heap may take, in MiB, for the <c>flamewright server</c> process (0: the runtime's
    /// own limit, none outside a container). Without one, on a machine with memory to spare, the collector keeps what it
    /// freed: a loaded server with 0.5 GiB of live objects held a heap of 1.5 GiB (benchmarks/README.md). With it, the
    /// collector compacts and gives memory back near the limit. It holds the uploads being received
    /// (<see cref="MaxUploadMemoryMegabytes"/>), both caches and the analyses under way, so it must hold the three and
    /// <see cref="ManagedHeapRoomMegabytes"/> more; an analysis that finds no room empties the caches and tries once
    /// more, then fails with a message that names this setting. A lower limit the runtime already has (a container's)
    /// is kept. Process-wide.
    /// </summary>
    public int ManagedHeapLimitMegabytes { get; set; } = 1664;

    /// <summary>What <see cref="ManagedHeapLimitMegabytes"/> holds beyond the three memory settings: the server itself.</summary>
    internal const int ManagedHeapRoomMegabytes = 128;

    /// <summary>The smallest <see cref="ManagedHeapLimitMegabytes"/> the memory settings leave room in.</summary>
    internal long MinManagedHeapLimitMegabytes =>
        (long)MaxUploadMemoryMegabytes + AnalysisCacheMegabytes + AnalysisResultCacheMegabytes + ManagedHeapRoomMegabytes;

    /// <summary>
    /// Longest error text kept from an agent, in characters; longer text is cut and says so. A Go error with its
    /// stack fits; a flood does not fill the task log, the UI or the server's log lines.
    /// </summary>
    public int MaxErrorMessageLength { get; set; } = 4096;

    /// <summary>
    /// Seconds the server waits for the error text of an agent that reported a failure in its metadata and sends the
    /// text in a message after it. The error is logged when the wait ends, with or without a text; the Go agent
    /// sends its text at once or never.
    /// </summary>
    public int ErrorMessageWaitSeconds { get; set; } = 5;

    /// <summary>
    /// Largest single gRPC message an agent may send, in bytes: gRPC's customary 4 MiB. The Go agent sends 1 MiB
    /// chunks; a larger message (say a 10 MiB error text) is refused with RESOURCE_EXHAUSTED before it is buffered.
    /// </summary>
    public int MaxAgentMessageBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Largest size an uploaded profile may inflate to, in bytes, when it is parsed: the engine's 256 MiB.</summary>
    public long MaxDecompressedBytes { get; set; } = Flamewright.Pprof.PprofLimits.DefaultMaxDecompressedBytes;

    /// <summary>Memory for decoded profiles kept between analyses, in MiB; repeated queries of a task skip the decode.</summary>
    public int AnalysisCacheMegabytes { get; set; } = 512;

    /// <summary>
    /// Memory for the merged flame trees and top tables of selections, in MiB: what makes a second look at a task,
    /// a zoom, or the same task through another API answer without building anything. A tree takes 32 bytes a node
    /// plus its distinct names (<c>FlameTree.ApproximateBytes</c>), so 512 MiB holds a few trees of ten million nodes
    /// or hundreds of ordinary ones.
    /// </summary>
    public int AnalysisResultCacheMegabytes { get; set; } = 512;

    /// <summary>
    /// Analyses (flame graphs, top tables, diffs, downloads) run at once; more wait their turn for
    /// <see cref="AnalysisQueueSeconds"/>. An analysis of many large uploads holds their decoded models and its tree
    /// while it runs, so this, not the number of users, bounds the memory analyses take.
    /// </summary>
    public int MaxConcurrentAnalyses { get; set; } = 2;

    /// <summary>Seconds an analysis waits for its turn before it is refused as busy (0: refused at once).</summary>
    public int AnalysisQueueSeconds { get; set; } = 60;

    /// <summary>
    /// Most elements one flame graph or diff answer of the GraphQL API holds: past it, only the heaviest nodes (with
    /// their parents, values exact) are sent, and <c>omittedElements</c> says how many were left out. A browser
    /// cannot draw millions of frames, and GraphQL answers build every element as objects (a 12-million-node tree
    /// took gigabytes). The REST downloads stay whole.
    /// </summary>
    public int MaxAnalysisElements { get; set; } = 100_000;

    /// <summary>
    /// Build a task's default view (every instance, the event's sample type, functions) into the results cache as soon
    /// as its last expected upload is stored, when an analysis turn is free: the first look at a finished task is then
    /// answered at once. Off saves the CPU of tasks nobody opens.
    /// </summary>
    public bool PrecomputeDefaultView { get; set; } = true;

    /// <summary>
    /// Make each upload's digest (docs/digest.md) while the upload is parsed, before it is acknowledged. Off (the
    /// default), the digest is made with the task's default view once uploads are quiet (<see cref="PrecomputeDefaultView"/>),
    /// or by the first analysis that reads the upload, and stored then: measured, making it on receipt costs about 75%
    /// more CPU per upload, which a burst of uploads (every instance of a task at once) waits for.
    /// </summary>
    public bool DigestOnReceive { get; set; }

    /// <summary>
    /// An upload with at least this many distinct stacks gets its digest while it is parsed, whatever
    /// <see cref="DigestOnReceive"/> says (0: none does). Decoding such a profile is what makes the first look at its
    /// task slow (seconds for a million stacks under load, against a fraction of that to read its digest), and the
    /// first analysis would make the same digest anyway; the parse that makes it runs at <see cref="BackgroundNiceness"/>.
    /// 100,000 is above the stacks of ordinary profiles (a busy service's 1-minute CPU profile has thousands); measured
    /// against 200,000 under the load benchmark, it brought the first looks' p99 under 3 s for 15% of ingest without
    /// users (benchmarks/README.md).
    /// </summary>
    public int DigestOnReceiveStacks { get; set; } = 100_000;

    /// <summary>
    /// How long the default view of a finished task (<see cref="PrecomputeDefaultView"/>) waits for the server to have
    /// received no upload for two seconds before it is built; past it, it is not built ahead (the first look builds
    /// it). 0 builds it at once, whatever is being received.
    /// </summary>
    public int PrecomputeWaitSeconds { get; set; } = 60;


    /// <summary>
    /// Largest default view (a task's flame tree over every instance, its event's sample type, functions) kept in
    /// storage once built, in MiB of tree digest (docs/digest.md): a restarted server or another node then reads it
    /// instead of building it. A tree of 1.5 M nodes takes about 8 MiB. 0 keeps none.
    /// </summary>
    public int MaxStoredViewMegabytes { get; set; } = 64;

    /// <summary>
    /// The width, in pixels, of the first look kept beside a default view (docs/digest.md): a fresh process answers a
    /// first look at this width or narrower from it without reading the tree. 4,096 covers a 4K screen; each doubling
    /// keeps several times more frames (on a 1.5 M-node tree: 4,000 frames at 4,096, 65,000 at 8,192).
    /// </summary>
    public int FirstLookWidthPixels { get; set; } = 4_096;

    /// <summary>
    /// Once listening, and before saying so, run a small made-up analysis, the page's first look at the task whose view
    /// was kept last, and the page's files over loopback, so that the first person to open a page does not wait for the
    /// server's code to be compiled. Agents are served meanwhile; the start waits at most 10 s for it.
    /// </summary>
    public bool WarmUp { get; set; } = true;

    /// <summary>
    /// Widest flame graph a view may be asked for, in pixels: an 8K screen at twice the pixel density is 15,360. A
    /// view holds at most this many frames per level of the graph, so the width bounds the answer.
    /// </summary>
    public int MaxViewWidthPixels { get; set; } = 16_384;

    /// <summary>Largest GraphQL or REST request body, in bytes: queries are small, 1 MiB is generous.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Whether the data lives in PostgreSQL rather than the embedded SQLite file.</summary>
    public bool UsesPostgres => string.Equals(Storage, "postgresql", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether the pprof receiver runs.</summary>
    public bool PprofReceiverEnabled => PprofReceiver != "-";

    /// <summary>Every problem with the settings, one line each; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        CheckPort(problems, nameof(GrpcPort), GrpcPort);
        CheckPort(problems, nameof(HttpPort), HttpPort);
        if (GrpcPort != 0 && GrpcPort == HttpPort && GrpcHost == HttpHost)
        {
            problems.Add($"GrpcPort and HttpPort are both {GrpcPort}: they need two ports");
        }

        if (string.IsNullOrWhiteSpace(DataDir))
        {
            problems.Add("DataDir must name a directory");
        }

        if (UsesPostgres)
        {
            try
            {
                _ = PostgresConnection.Build(this);
            }
            catch (SettingsException e)
            {
                problems.Add(e.Message);
            }
        }
        else if (!string.Equals(Storage, "sqlite", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"Storage '{Storage}' is not supported: use sqlite or postgresql");
        }

        Positive(problems, nameof(PostgresMaxPoolSize), PostgresMaxPoolSize);
        Positive(problems, nameof(GraphQLMaxDepth), GraphQLMaxDepth);
        Positive(problems, nameof(GraphQLMaxComplexity), GraphQLMaxComplexity);
        Positive(problems, nameof(GraphQLMaxFields), GraphQLMaxFields);
        Positive(problems, nameof(GraphQLMaxExpandedFields), GraphQLMaxExpandedFields);
        Positive(problems, nameof(AnalysisFilterSeconds), AnalysisFilterSeconds);
        Positive(problems, nameof(MaxInstancesPerTask), MaxInstancesPerTask);
        Positive(problems, nameof(MaxListItems), MaxListItems);
        Positive(problems, nameof(MaxTemplateBytes), MaxTemplateBytes);
        Positive(problems, nameof(MaxTemplates), MaxTemplates);
        if (ApiToken.Length > 0 && ApiToken == ReadOnlyApiToken)
        {
            problems.Add("ApiToken and ReadOnlyApiToken are the same: a viewer could create tasks");
        }
        if (StorageStartTimeoutSeconds < 0)
        {
            problems.Add("StorageStartTimeoutSeconds must be 0 or more");
        }

        if (PprofReceiver is not ("default" or "-"))
        {
            problems.Add($"PprofReceiver must be 'default' or '-', not '{PprofReceiver}'");
        }

        // The wire carries contentSize as int32, so nothing larger can be declared.
        if (MaxUploadBytes is < 1 or > int.MaxValue)
        {
            problems.Add($"MaxUploadBytes must be between 1 and {int.MaxValue}");
        }

        if (RecordTtlDays < 1)
        {
            problems.Add("RecordTtlDays must be 1 or more");
        }

        Positive(problems, nameof(RetentionCheckMinutes), RetentionCheckMinutes);
        Positive(problems, nameof(TaskDispatchMinutes), TaskDispatchMinutes);
        Positive(problems, nameof(UploadTimeoutSeconds), UploadTimeoutSeconds);
        Positive(problems, nameof(UploadIdleTimeoutSeconds), UploadIdleTimeoutSeconds);
        Positive(problems, nameof(MaxConcurrentUploads), MaxConcurrentUploads);
        Positive(problems, nameof(MaxConcurrentParses), MaxConcurrentParses);
        NotNegative(problems, nameof(DigestOnReceiveStacks), DigestOnReceiveStacks);
        if (BackgroundNiceness is < 0 or > 19)
        {
            problems.Add("BackgroundNiceness must be between 0 and 19");
        }

        NotNegative(problems, nameof(NativeHeapArenas), NativeHeapArenas);
        if (NativeHeapMapThresholdKilobytes is < 0 or > MaxNativeHeapMapThresholdKilobytes)
        {
            problems.Add($"NativeHeapMapThresholdKilobytes must be between 0 and {MaxNativeHeapMapThresholdKilobytes} (32 MiB, the most glibc raises its own to)");
        }

        if (ManagedHeapLimitMegabytes != 0 && ManagedHeapLimitMegabytes < MinManagedHeapLimitMegabytes)
        {
            problems.Add($"ManagedHeapLimitMegabytes must be 0 (the runtime's own limit) or hold MaxUploadMemoryMegabytes, AnalysisCacheMegabytes, "
                + $"AnalysisResultCacheMegabytes and {ManagedHeapRoomMegabytes} more ({MinManagedHeapLimitMegabytes} or more)");
        }

        NotNegative(problems, nameof(UploadQueueSeconds), UploadQueueSeconds);
        if (MaxUploadMemoryMegabytes < 1 || MaxUploadMemoryBytes < MaxUploadBytes)
        {
            problems.Add($"MaxUploadMemoryMegabytes must hold one upload of MaxUploadBytes ({(MaxUploadBytes + Megabyte - 1) / Megabyte} MiB or more)");
        }

        Positive(problems, nameof(MaxErrorMessageLength), MaxErrorMessageLength);
        Positive(problems, nameof(ErrorMessageWaitSeconds), ErrorMessageWaitSeconds);
        if (MaxAgentMessageBytes < MinAgentMessageBytes)
        {
            problems.Add($"MaxAgentMessageBytes must be {MinAgentMessageBytes} or more: the Go agent's 1 MiB chunks must fit");
        }
        Positive(problems, nameof(AnalysisCacheMegabytes), AnalysisCacheMegabytes);
        Positive(problems, nameof(AnalysisResultCacheMegabytes), AnalysisResultCacheMegabytes);
        Positive(problems, nameof(MaxConcurrentAnalyses), MaxConcurrentAnalyses);
        Positive(problems, nameof(MaxAnalysisElements), MaxAnalysisElements);
        Positive(problems, nameof(MaxViewWidthPixels), MaxViewWidthPixels);
        NotNegative(problems, nameof(AnalysisQueueSeconds), AnalysisQueueSeconds);
        NotNegative(problems, nameof(MaxStoredViewMegabytes), MaxStoredViewMegabytes);
        NotNegative(problems, nameof(PrecomputeWaitSeconds), PrecomputeWaitSeconds);
        Positive(problems, nameof(FirstLookWidthPixels), FirstLookWidthPixels);
        if (FirstLookWidthPixels > MaxViewWidthPixels)
        {
            problems.Add("FirstLookWidthPixels must be MaxViewWidthPixels or less: no view is wider");
        }

        if (MaxStoredViewMegabytes > 1024)
        {
            problems.Add("MaxStoredViewMegabytes must be 1024 or less: a kept view is read whole");
        }

        if (MaxDecompressedBytes is < 1 or > int.MaxValue)
        {
            problems.Add($"MaxDecompressedBytes must be between 1 and {int.MaxValue}");
        }

        if (MaxRequestBodyBytes < 1)
        {
            problems.Add("MaxRequestBodyBytes must be 1 or more");
        }

        return problems;
    }

    private static void CheckPort(List<string> problems, string name, int port)
    {
        if (port is < 0 or > 65535)
        {
            problems.Add($"{name} must be between 0 and 65535, not {port}");
        }
    }

    private static void Positive(List<string> problems, string name, int value)
    {
        if (value < 1)
        {
            problems.Add($"{name} must be 1 or more");
        }
    }

    private static void NotNegative(List<string> problems, string name, int value)
    {
        if (value < 0)
        {
            problems.Add($"{name} must be 0 or more");
        }
    }
}
