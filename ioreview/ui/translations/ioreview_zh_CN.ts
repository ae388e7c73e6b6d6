<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AboutDialog</name>
    <message>
        <location filename="../help.py" line="+294"/>
        <source>About ioreview</source>
        <translation>关于 ioreview</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Database</source>
        <translation>数据库</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>(not known)</source>
        <translation>（未知）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Active protocol</source>
        <translation>当前方案</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>(none installed)</source>
        <translation>（未安装）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Blinded imaging review for clinical trials.</source>
        <translation>用于临床试验的盲法影像评估。</translation>
    </message>
</context>
<context>
    <name>AccountDialogs</name>
    <message>
        <location filename="../account_dialogs.py" line="+212"/>
        <source>Change password…</source>
        <translation>修改密码…</translation>
    </message>
</context>
<context>
    <name>AdjudicationPanel</name>
    <message>
        <location filename="../adjudication.py" line="+133"/>
        <source>yes</source>
        <extracomment>The colour of each reader&apos;s annotations (the adjudicator&apos;s own use the viewer&apos;s colour). radio buttons drawn visibly on the dark theme</extracomment>
        <translation>是</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <location line="+470"/>
        <location line="+49"/>
        <source>No case open</source>
        <translation>未打开病例</translation>
    </message>
    <message>
        <location line="-27"/>
        <source>Sign adjudication…</source>
        <translation>签署裁定…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Reads side by side</source>
        <translation>判读并排对照</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Decisions</source>
        <translation>裁定</translation>
    </message>
    <message>
        <location line="+44"/>
        <source>Case {case} · {timepoint} · day {day}</source>
        <translation>病例 {case} · {timepoint} · 第 {day} 天</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Reader {letter}&apos;s annotations ({n})</source>
        <translation>阅片者 {letter} 的标注（{n}）</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Field</source>
        <translation>字段</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Reader {letter}</source>
        <translation>阅片者 {letter}</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>Discordant — {rule}: {reason}</source>
        <translation>不一致 — {rule}：{reason}</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>{n} item(s) to decide</source>
        <translation>{n} 项待裁定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>This adjudication is {status}.</source>
        <translation>此裁定状态为{status}。</translation>
    </message>
</context>
<context>
    <name>AdjudicationStatus</name>
    <message>
        <location filename="../coordinator.py" line="+807"/>
        <source>pending</source>
        <translation>待裁定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>decided</source>
        <translation>已裁定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>superseded</source>
        <translation>已被取代</translation>
    </message>
</context>
<context>
    <name>AdjudicationStatusDialog</name>
    <message>
        <location line="-77"/>
        <source>Adjudication status of {case}</source>
        <translation>{case} 的裁定状态</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Subject {subject} · {timepoint} · day {day} · paradigm {paradigm} · stage &lt;b&gt;{stage}&lt;/b&gt;{reopened}</source>
        <translation>受试者 {subject} · {timepoint} · 第 {day} 天 · 裁定模式 {paradigm} · 阶段 &lt;b&gt;{stage}&lt;/b&gt;{reopened}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source> · reopened</source>
        <translation> · 已重新开启</translation>
    </message>
    <message>
        <location line="+6"/>
        <location line="+4"/>
        <source>Field</source>
        <translation>字段</translation>
    </message>
    <message>
        <location line="-3"/>
        <location line="+4"/>
        <source>Rule</source>
        <translation>规则</translation>
    </message>
    <message>
        <location line="-3"/>
        <location line="+4"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Adjudicator</source>
        <translation>裁定者</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Created</source>
        <translation>创建时间</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Decided</source>
        <translation>已裁定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Readers</source>
        <translation>阅片者</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Discordant fields</source>
        <translation>不一致字段</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Adjudications</source>
        <translation>裁定</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Third reader: {name}</source>
        <translation>第三阅片者：{name}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Committee sessions: {ids}</source>
        <translation>委员会会议：{ids}</translation>
    </message>
</context>
<context>
    <name>AdjudicationTab</name>
    <message>
        <location line="+63"/>
        <location line="+9"/>
        <source>Adjudicator</source>
        <translation>裁定者</translation>
    </message>
    <message>
        <location line="-8"/>
        <source>Pending</source>
        <translation>待处理</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Decided</source>
        <translation>已裁定</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Case</source>
        <translation>病例</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Subject</source>
        <translation>受试者</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stage</source>
        <translation>阶段</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Reopened</source>
        <translation>已重新开启</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Discordant fields</source>
        <translation>不一致字段</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Reassign…</source>
        <translation>重新分配…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Send to committee…</source>
        <translation>提交委员会…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Status…</source>
        <translation>状态…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Committee sessions…</source>
        <translation>委员会会议…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Create committee sessions for the cases waiting for the committee, record attendance and follow the votes</source>
        <translation>为等待委员会裁决的病例创建委员会会议、记录出席情况并跟踪投票</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Workload per adjudicator</source>
        <translation>各裁定者工作量</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cases past reading</source>
        <translation>已完成阅片的病例</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Cases per stage: {stages}&lt;br&gt;Adjudications: {pending} pending · {decided} decided · committee sessions: {open} open, {closed} closed</source>
        <translation>各阶段病例：{stages}&lt;br&gt;裁定：{pending} 待处理 · {decided} 已裁定 · 委员会会议：{open} 进行中，{closed} 已结束</translation>
    </message>
    <message>
        <location line="+33"/>
        <location line="+11"/>
        <source>Adjudication</source>
        <translation>裁定</translation>
    </message>
    <message>
        <location line="-11"/>
        <source>Select a case first.</source>
        <translation>请先选择一个病例。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>There is no active adjudicator.</source>
        <translation>没有在职的裁定者。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Reassign {case}</source>
        <translation>重新分配 {case}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Adjudicator (who read no part of the case):</source>
        <translation>裁定者（未参与该病例的任何阅片）：</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Send {case} to the committee</source>
        <translation>将 {case} 提交委员会</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Why does the case go to the committee?</source>
        <translation>为何将该病例提交委员会？</translation>
    </message>
</context>
<context>
    <name>AdjudicatorWindow</name>
    <message>
        <location filename="../adjudication.py" line="+27"/>
        <source>ioreview — adjudication ({user})</source>
        <translation>ioreview — 裁定（{user}）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Case</source>
        <extracomment>the active protocol&apos;s names for timepoints and fields in the UI language</extracomment>
        <translation>病例</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Timepoint</source>
        <translation>时间点</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Day</source>
        <translation>天</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Waiting since</source>
        <translation>等待起始</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Discordant fields</source>
        <translation>不一致字段</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>My adjudication queue</source>
        <translation>我的裁定队列</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Open case</source>
        <translation>打开病例</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Queue</source>
        <extracomment>the adjudicator dragged the splitter: the panes keep their sizes from then on</extracomment>
        <translation>队列</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Show or hide the adjudication queue</source>
        <translation>显示或隐藏裁定队列</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Reads and decisions</source>
        <translation>阅片与裁定</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Show or hide the reads and the decisions</source>
        <translation>显示或隐藏阅片结果与裁定</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Signed in as {user} (adjudicator)</source>
        <translation>已登录：{user}（裁定者）</translation>
    </message>
    <message>
        <location line="-21"/>
        <source>The queue is folded away to give the images room: F6 or its toolbar button shows it again.</source>
        <extracomment>the queue folds away for the images on opening a case at a narrow width</extracomment>
        <translation>已收起队列，为图像留出空间：按 F6 或其工具栏按钮可重新显示。</translation>
    </message>
    <message>
        <location line="+82"/>
        <source>{n} case(s) waiting for your decision</source>
        <translation>{n} 个病例等待您裁定</translation>
    </message>
    <message>
        <location line="+52"/>
        <source>I confirm this adjudication</source>
        <translation>我确认此裁定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Sign adjudication</source>
        <translation>签署裁定</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Adjudication of {case} signed.</source>
        <translation>{case} 的裁定已签署。</translation>
    </message>
</context>
<context>
    <name>AdminArea</name>
    <message>
        <location filename="../admin.py" line="+212"/>
        <source>Audit trail</source>
        <translation>审计追踪</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Protocol versions</source>
        <translation>方案版本</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Backup</source>
        <translation>备份</translation>
    </message>
</context>
<context>
    <name>AgreementDashboard</name>
    <message>
        <location filename="../agreement_dashboard.py" line="+107"/>
        <source>undefined</source>
        <extracomment>the modalities offered first in the filter (the others follow alphabetically)</extracomment>
        <translation>无法计算</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Could not write the image {path}.</source>
        <translation>无法写入图像 {path}。</translation>
    </message>
    <message>
        <location line="+133"/>
        <source>kappa</source>
        <translation>kappa</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>weighted kappa</source>
        <translation>加权 kappa</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>ICC(A,1)</source>
        <translation>ICC(A,1)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>nominal</source>
        <translation>名义</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>ordinal</source>
        <translation>有序</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>numeric</source>
        <translation>数值</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>kappa (nominal)</source>
        <translation>kappa（名义）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>weighted kappa (ordinal)</source>
        <translation>加权 kappa（有序）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>ICC(A,1) (numeric)</source>
        <translation>ICC(A,1)（数值）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>PABAK (kappa paradox)</source>
        <translation>PABAK（kappa 悖论）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>AC1 (kappa paradox)</source>
        <translation>AC1（kappa 悖论）</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Recompute</source>
        <translation>重新计算</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Timepoint</source>
        <translation>时间点</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Modality</source>
        <translation>模态</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Protocol version</source>
        <translation>方案版本</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Kappa paradox (see PABAK and AC1)</source>
        <translation>Kappa 悖论（请参阅 PABAK 与 AC1）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Not estimable on these data</source>
        <translation>在当前数据上无法估计</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>Discordance rate per reader (p-charts, 3-sigma limits)</source>
        <translation>各阅片者的不一致率（p 控制图，3σ 控制限）</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Intra-reader agreement (hidden re-reads)</source>
        <translation>阅片者内一致性（隐藏重复阅片）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Read time and concordance by worklist position</source>
        <translation>按工作列表位置的阅片时间与一致率</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>A GRRAS-style paragraph (Kottner et al. 2011) to paste into a report:</source>
        <translation>可粘贴到报告中的 GRRAS 格式段落（Kottner 等，2011）：</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Agreement per field</source>
        <translation>各字段一致性</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reader monitoring</source>
        <translation>阅片者监测</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Re-reads and worklist order</source>
        <translation>重复阅片与工作列表顺序</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>GRRAS summary</source>
        <translation>GRRAS 摘要</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Not computed yet.</source>
        <translation>尚未计算。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>limits of agreement: {reason}</source>
        <translation>一致性界限：{reason}</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Field</source>
        <translation>字段</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+24"/>
        <source>n</source>
        <translation>n</translation>
    </message>
    <message>
        <location line="-23"/>
        <location line="+24"/>
        <source>Percent agreement</source>
        <translation>一致百分比</translation>
    </message>
    <message>
        <location line="-22"/>
        <source>Statistic</source>
        <translation>统计量</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Value (95% CI)</source>
        <translation>值（95% CI）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>PABAK</source>
        <translation>PABAK</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>AC1</source>
        <translation>AC1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Krippendorff&apos;s alpha</source>
        <translation>Krippendorff α</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Prevalence</source>
        <translation>患病率</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Kappa paradox</source>
        <translation>Kappa 悖论</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Bland-Altman bias (95% CI)</source>
        <translation>Bland-Altman 偏倚（95% CI）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Limits of agreement</source>
        <translation>一致性界限</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Why undefined</source>
        <translation>无法计算的原因</translation>
    </message>
    <message>
        <location line="+8"/>
        <location line="+18"/>
        <source>Reader</source>
        <translation>阅片者</translation>
    </message>
    <message>
        <location line="-17"/>
        <source>Finding</source>
        <translation>发现</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Kappa (95% CI)</source>
        <translation>Kappa（95% CI）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Interval (days)</source>
        <translation>间隔（天）</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Cases read</source>
        <translation>已读病例</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Discordant</source>
        <translation>不一致</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Adjudication rate</source>
        <translation>裁定率</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Adjudicated items</source>
        <translation>裁定项目（支持 / 总数）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Adjudicator agreement</source>
        <translation>裁定者支持率</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+362"/>
        <source>RDI</source>
        <translation>RDI</translation>
    </message>
    <message>
        <location line="-361"/>
        <source>Periods out of limits</source>
        <translation>超出控制限的时段</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Discordant by finding</source>
        <translation>按发现的不一致率</translation>
    </message>
    <message>
        <location line="+43"/>
        <location line="+66"/>
        <source>Agreement</source>
        <translation>一致性</translation>
    </message>
    <message>
        <location line="-58"/>
        <source>All timepoints</source>
        <translation>全部时间点</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>All modalities</source>
        <translation>全部模态</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>All versions</source>
        <translation>全部版本</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{version} (active)</source>
        <translation>{version}（当前）</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Computing…</source>
        <translation>正在计算…</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Not computed: {error}</source>
        <translation>未能计算：{error}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>{cases} cases · {subjects} subjects · {readers} readers · {rereads} re-reads</source>
        <translation>{cases} 个病例 · {subjects} 名受试者 · {readers} 名阅片者 · {rereads} 次重复阅片</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>No hidden re-read has been signed in this selection yet: re-reads become available to readers after the protocol&apos;s washout.</source>
        <translation>当前筛选范围内尚无已签署的隐藏重复阅片：重复阅片在方案规定的洗脱期后才会分配给阅片者。</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>needs at least {minimum} subject(s) with complete ratings; got {n}</source>
        <translation>至少需要 {minimum} 名评定完整的受试者；当前为 {n} 名</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>needs at least {minimum} subject(s) with complete ratings; got {n} ({dropped} more left out for a missing rating)</source>
        <translation>至少需要 {minimum} 名评定完整的受试者；当前为 {n} 名（另有 {dropped} 名因缺少评定而未计入）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>undefined: both readers gave one and the same answer on every case, so chance agreement is 1; see percent agreement and AC1</source>
        <translation>无法计算：两位阅片者在每个病例上都给出同一答案，机遇一致性为 1；请参阅一致百分比与 AC1</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>undefined: only one answer occurs on these cases</source>
        <translation>无法计算：这些病例中只出现一种答案</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>needs at least 2 cases read by two or more readers; got {n}</source>
        <translation>至少需要 2 个由两位或以上阅片者阅读的病例；当前为 {n} 个</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>undefined: every value is the same (no variance)</source>
        <translation>无法计算：所有数值均相同（无变异）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>needs at least 2 pairs of measurements; got {n} ({dropped} left out for a missing value)</source>
        <translation>至少需要 2 对测量值；当前为 {n} 对（{dropped} 对因缺失值而未计入）</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>{field} ({statistic}, n = {n}): {reason}</source>
        <translation>{field}（{statistic}，n = {n}）：{reason}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>{field}: kappa {kappa} with {percent} agreement (prevalence {prev}); PABAK {pabak}, AC1 {ac1}</source>
        <translation>{field}：一致百分比 {percent} 时 kappa 为 {kappa}（患病率 {prev}）；PABAK {pabak}，AC1 {ac1}</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Every field&apos;s statistic is defined.</source>
        <translation>所有字段的统计量均可计算。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No field is flagged.</source>
        <translation>没有字段被标记。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Inter-reader agreement per field (95% CI)</source>
        <translation>各字段的阅片者间一致性（95% CI）</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>kappa / weighted kappa / ICC(A,1)</source>
        <translation>kappa / 加权 kappa / ICC(A,1)</translation>
    </message>
    <message>
        <location line="+64"/>
        <source>{reader}: discordance rate (centre {centre})</source>
        <translation>{reader}：不一致率（中心线 {centre}）</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>discordant cases</source>
        <translation>不一致病例</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>3-sigma limits</source>
        <translation>3σ 控制限</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>centre line</source>
        <translation>中心线</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>discordance rate</source>
        <translation>不一致率</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>outside the limits</source>
        <translation>超出控制限</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Adjudication per reader</source>
        <translation>各阅片者的裁定情况</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>adjudicator sided with the reader</source>
        <translation>裁定者支持该阅片者</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>adjudication rate</source>
        <translation>裁定率</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>Mean read time and concordance by worklist position</source>
        <translation>按工作列表位置的平均阅片时间与一致率</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>position in the reader&apos;s worklist</source>
        <translation>在阅片者工作列表中的位置</translation>
    </message>
    <message>
        <location line="+6"/>
        <location line="+11"/>
        <source>mean read time (s)</source>
        <translation>平均阅片时间（秒）</translation>
    </message>
    <message>
        <location line="-7"/>
        <location line="+18"/>
        <source>concordant cases</source>
        <translation>一致病例</translation>
    </message>
    <message>
        <location line="+15"/>
        <location line="+7"/>
        <source>Save chart</source>
        <translation>保存图表</translation>
    </message>
    <message>
        <location line="-6"/>
        <source>PNG image (*.png)</source>
        <translation>PNG 图像 (*.png)</translation>
    </message>
    <message>
        <location line="+8"/>
        <location line="+14"/>
        <source>Saved {path}</source>
        <translation>已保存 {path}</translation>
    </message>
    <message>
        <location line="-9"/>
        <location line="+7"/>
        <source>Save table</source>
        <translation>保存表格</translation>
    </message>
    <message>
        <location line="-6"/>
        <source>CSV file (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
</context>
<context>
    <name>AgreementWindow</name>
    <message>
        <location line="+23"/>
        <source>ioreview — agreement statistics</source>
        <translation>ioreview — 一致性统计</translation>
    </message>
</context>
<context>
    <name>Annotations</name>
    <message>
        <location filename="../viewer/annotations.py" line="+37"/>
        <source>Arrow</source>
        <extracomment>Kinds of annotation, with the number of points that define them (None: any number &gt;= 3).</extracomment>
        <translation>箭头</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Length</source>
        <translation>长度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Angle</source>
        <translation>角度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ellipse ROI</source>
        <translation>椭圆 ROI</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Polygon ROI</source>
        <translation>多边形 ROI</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Freehand ROI</source>
        <translation>手绘 ROI</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Point</source>
        <translation>点</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Grown region</source>
        <translation>生长区域</translation>
    </message>
    <message>
        <location line="+132"/>
        <source>Label annotation</source>
        <translation>设置标注标签</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Add %1</source>
        <translation>添加%1</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Delete %1</source>
        <translation>删除%1</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Edit %1</source>
        <translation>编辑%1</translation>
    </message>
</context>
<context>
    <name>AssignmentsTab</name>
    <message>
        <location filename="../coordinator.py" line="-448"/>
        <source>Use seed</source>
        <translation>使用随机种子</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Generate assignments</source>
        <translation>生成阅片分配</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Every unassigned case goes to the protocol&apos;s number of readers, balanced, in a seeded random order per reader; a hidden re-read subset returns after the washout. The seed is recorded in the database.</source>
        <translation>每个未分配的病例按方案规定的阅片者人数均衡分配，每位阅片者的阅片顺序由随机种子单独随机化；隐藏的重复阅片子集在洗脱期后再次分配。随机种子记录在数据库中。</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>{n} assignments created ({r} hidden re-reads) with seed {seed}.</source>
        <translation>已使用随机种子 {seed} 创建 {n} 项分配（含 {r} 项隐藏重复阅片）。</translation>
    </message>
</context>
<context>
    <name>AssignmentsView</name>
    <message>
        <location filename="../assignments_view.py" line="+46"/>
        <source>primary read</source>
        <translation>主阅片</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>hidden re-read</source>
        <translation>隐藏重复阅片</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>third read</source>
        <translation>第三阅片者阅片</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>not started</source>
        <translation>未开始</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>draft</source>
        <translation>草稿</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>signed</source>
        <translation>已签名</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>now</source>
        <translation>现在</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>from {when}</source>
        <translation>自 {when} 起</translation>
    </message>
    <message>
        <location line="+102"/>
        <source>Case</source>
        <translation>病例</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+28"/>
        <source>Reader</source>
        <translation>阅片者</translation>
    </message>
    <message>
        <location line="-27"/>
        <source>Purpose</source>
        <translation>阅片类型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Position</source>
        <translation>列表位置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Available</source>
        <translation>可阅时间</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Label the reader sees</source>
        <translation>阅片者看到的编号</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Filter by case, reader or status</source>
        <translation>按病例、阅片者或状态筛选</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Reassign…</source>
        <translation>重新分配…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Give the selected read (not signed) to another reader, with a reason</source>
        <translation>将所选（未签名的）阅片转给其他阅片者，需注明原因</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Assigned</source>
        <translation>已分配</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>In worklist now</source>
        <translation>当前在工作列表中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Hidden re-reads</source>
        <translation>隐藏重复阅片</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Not yet available</source>
        <translation>尚不可阅</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Assignments (case x reader; coordinator only)</source>
        <translation>阅片分配（病例 × 阅片者；仅限协调员查看）</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Per reader</source>
        <translation>按阅片者</translation>
    </message>
    <message>
        <location line="+40"/>
        <source>Readers&apos; worklists show only what is available now, so their totals are lower than &quot;Assigned&quot;: {hidden} hidden re-read(s) become available only after the washout and are not named as re-reads to the reader (they carry their own case label), and {waiting} assignment(s) in all are not available yet.</source>
        <translation>阅片者的工作列表只显示当前可阅的分配，因此其总数低于“已分配”：{hidden} 项隐藏重复阅片在洗脱期结束后才可阅，且不会向阅片者标明为重复阅片（它们使用各自的病例编号）；合计有 {waiting} 项分配尚不可阅。</translation>
    </message>
    <message>
        <location line="+48"/>
        <source>Select an assignment in the table first.</source>
        <translation>请先在表格中选择一项分配。</translation>
    </message>
</context>
<context>
    <name>AssistiveTools</name>
    <message>
        <location filename="../viewer/assist.py" line="+124"/>
        <source>The seed (%1 HU) lies outside the %2 range %3..%4 HU</source>
        <extracomment>Defaults when the host gives no protocol thresholds (HU). Default HU tolerance around the seed value. A slab converted to HU for growing is at most this many bytes before it must grow. Modalities the tools apply to.</extracomment>
        <translation>种子点（%1 HU）超出%2范围 %3..%4 HU</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>fluid</source>
        <translation>液体</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>blood</source>
        <translation>血液</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>no band</source>
        <translation>无区间</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>The seed lies outside the image</source>
        <translation>种子点位于图像之外</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Volume %1 mL, mean %2 HU (SD %3), %4 slices</source>
        <translation>体积 %1 mL，平均 %2 HU（标准差 %3），%4 层</translation>
    </message>
</context>
<context>
    <name>AuditViewer</name>
    <message>
        <location filename="../audit_viewer.py" line="+52"/>
        <source>(nothing)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Record {seq}: {actor} — {action} {entity} {entity_id}</source>
        <translation>记录 {seq}：{actor} — {action} {entity} {entity_id}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{utc} UTC ({local} local)</source>
        <translation>{utc} UTC（本地时间 {local}）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Changed: {keys}</source>
        <translation>已更改：{keys}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Before</source>
        <translation>更改前</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>After</source>
        <translation>更改后</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Time (UTC)</source>
        <translation>时间（UTC）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Local time</source>
        <translation>本地时间</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+117"/>
        <source>User</source>
        <translation>用户</translation>
    </message>
    <message>
        <location line="-116"/>
        <location line="+117"/>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <location line="-116"/>
        <source>Entity</source>
        <translation>对象</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Id</source>
        <translation>ID</translation>
    </message>
    <message>
        <location line="+74"/>
        <location line="+107"/>
        <location line="+12"/>
        <source>any</source>
        <translation>不限</translation>
    </message>
    <message>
        <location line="-93"/>
        <source>case label</source>
        <translation>病例编号</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Apply filter</source>
        <translation>应用筛选</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Case</source>
        <translation>病例</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>From</source>
        <translation>从</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>To</source>
        <translation>至</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Select a record to see its before and after.</source>
        <translation>选择一条记录以查看其更改前后的内容。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Verify audit trail</source>
        <translation>验证审计追踪</translation>
    </message>
    <message>
        <location line="+62"/>
        <source>No records shown.</source>
        <translation>未显示任何记录。</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+89"/>
        <source>Audit trail</source>
        <translation>审计追踪</translation>
    </message>
    <message>
        <location line="-87"/>
        <source>{n} matching record(s)</source>
        <translation>{n} 条匹配记录</translation>
    </message>
    <message>
        <location line="+18"/>
        <location line="+25"/>
        <source>Export the audit trail</source>
        <translation>导出审计追踪</translation>
    </message>
    <message>
        <location line="-24"/>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Exporting to {path} …</source>
        <translation>正在导出到 {path} …</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>{n} record(s) exported to {path}</source>
        <translation>已将 {n} 条记录导出到 {path}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The export failed.</source>
        <translation>导出失败。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Verifying the audit trail and every signature…</source>
        <translation>正在验证审计追踪和所有签名…</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>✔ Audit trail intact: {n} records verified, every signature matches what was signed.</source>
        <translation>✔ 审计追踪完整：已验证 {n} 条记录，所有签名均与所签内容一致。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>✘ Audit trail BROKEN ({n} records checked). First broken record: #{seq} ({kind}): {message}</source>
        <translation>✘ 审计追踪已被破坏（已检查 {n} 条记录）。第一条损坏的记录：#{seq}（{kind}）：{message}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>✘ Audit trail BROKEN ({n} records checked). First problem: {first}</source>
        <translation>✘ 审计追踪已被破坏（已检查 {n} 条记录）。第一个问题：{first}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>({more} more problem(s))</source>
        <translation>（另有 {more} 个问题）</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The verification could not run: {error}</source>
        <translation>无法执行验证：{error}</translation>
    </message>
</context>
<context>
    <name>BackupTab</name>
    <message>
        <location filename="../admin.py" line="-60"/>
        <source>Back up the trial now…</source>
        <translation>立即备份试验数据…</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>A backup copies the database (consistently, while others keep working), the case archive and a manifest with the SHA-256 of every file into a new folder. The trial key is not part of the backup: keep it safe separately.</source>
        <translation>备份会将数据库（在其他用户继续工作的同时保持一致性）、病例归档以及包含每个文件 SHA-256 的清单复制到一个新文件夹中。试验密钥不包含在备份中：请另行妥善保管。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Folder to create the backup in</source>
        <translation>创建备份的目标文件夹</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Backing up into {dest} …</source>
        <translation>正在备份到 {dest} …</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Backup finished in {folder}: {n} files ({archive} case files), audit trail of {length} records, manifest {manifest}. The trial key ({key_id}) is not in the backup; it is kept at {key_path}.</source>
        <translation>备份已完成，位于 {folder}：共 {n} 个文件（其中病例文件 {archive} 个），审计追踪 {length} 条记录，清单 {manifest}。试验密钥（{key_id}）不在备份中，它保存在 {key_path}。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>(in memory)</source>
        <translation>（内存中）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Backup failed: {error}</source>
        <translation>备份失败：{error}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Backup</source>
        <translation>备份</translation>
    </message>
</context>
<context>
    <name>BurnedInTextTab</name>
    <message>
        <location filename="../burned_in.py" line="+142"/>
        <source>Series</source>
        <translation>序列</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Case</source>
        <translation>病例</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Modality</source>
        <translation>模态</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Frames</source>
        <translation>帧数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Why flagged</source>
        <translation>标记原因</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Decided by</source>
        <translation>决定人</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Preview masked</source>
        <translation>预览遮盖效果</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Clear rectangles</source>
        <translation>清除矩形</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Save mask</source>
        <translation>保存遮盖</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Confirm no burned-in text</source>
        <translation>确认无烧录文字</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Readers get a flagged series only after its text is masked or it is confirmed clean. Drag on the image to draw rectangles to black out on every frame.</source>
        <translation>被标记的序列只有在其文字被遮盖或被确认无文字后才会提供给阅片者。在图像上拖动可绘制矩形，矩形区域将在每一帧中涂黑。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Series whose images may carry text</source>
        <translation>图像中可能含有烧录文字的序列</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>First frame</source>
        <translation>第一帧</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>waiting: readers do not get it</source>
        <translation>待处理：暂不提供给阅片者</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>masked</source>
        <translation>已遮盖</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>confirmed clean</source>
        <translation>已确认无文字</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>not flagged</source>
        <translation>未标记</translation>
    </message>
    <message>
        <location line="+49"/>
        <source>Series {n}: {k} rectangle(s) masked in the readers&apos; copies.</source>
        <translation>序列 {n}：已在阅片者副本中遮盖 {k} 个矩形区域。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Series {n} confirmed clean: readers get it unmasked.</source>
        <translation>序列 {n} 已确认无文字：阅片者将看到未遮盖的图像。</translation>
    </message>
</context>
<context>
    <name>CaseDialog</name>
    <message>
        <location filename="../coordinator.py" line="-190"/>
        <source>New case</source>
        <translation>新建病例</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>{modality}  #{number}  {description}  ({n} images)</source>
        <translation>{modality}  #{number}  {description}  （{n} 幅图像）</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Subject</source>
        <translation>受试者</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Timepoint</source>
        <translation>时间点</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Days from insertion</source>
        <translation>置针后天数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Series</source>
        <translation>序列</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Tick at least one series.</source>
        <translation>请至少勾选一个序列。</translation>
    </message>
</context>
<context>
    <name>CaseStage</name>
    <message>
        <location line="+402"/>
        <source>reading</source>
        <translation>阅片中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>concordant</source>
        <translation>一致</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>waiting for adjudication</source>
        <translation>等待裁定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>waiting for a third read</source>
        <translation>等待第三位阅片者</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>waiting for the committee</source>
        <translation>等待委员会</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>decided</source>
        <translation>已裁决</translation>
    </message>
</context>
<context>
    <name>CasesTab</name>
    <message>
        <location line="-395"/>
        <source>Patient ID</source>
        <translation>患者 ID</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Study date</source>
        <translation>检查日期</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Modalities</source>
        <translation>检查类型</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+8"/>
        <source>Series</source>
        <translation>序列</translation>
    </message>
    <message>
        <location line="-5"/>
        <source>Case label</source>
        <translation>病例编号</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Subject</source>
        <translation>受试者</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Timepoint</source>
        <translation>时间点</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Day</source>
        <translation>天数</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Build cases from studies</source>
        <translation>按检查生成病例</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>New case from selected study...</source>
        <translation>由所选检查新建病例...</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Imported studies (identifying: coordinator only)</source>
        <translation>已导入的检查（含可识别身份信息：仅限协调员查看）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cases</source>
        <translation>病例</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>{n} new case(s) built.</source>
        <translation>已生成 {n} 个新病例。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Select a study first.</source>
        <translation>请先选择一项检查。</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Created case {label}.</source>
        <translation>已创建病例 {label}。</translation>
    </message>
</context>
<context>
    <name>CastingVoteDialog</name>
    <message>
        <location filename="../committee.py" line="+383"/>
        <source>I confirm my casting vote as chair</source>
        <translation>本人作为主席确认我的决定性投票</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Casting vote</source>
        <translation>决定票</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The votes on “{item}” are tied. Choose one of the tied values and sign; the casting vote decides the item.</source>
        <translation>“{item}”的投票持平。请从持平的取值中选择一个并签名；决定票将裁定该项。</translation>
    </message>
</context>
<context>
    <name>ChangePasswordDialog</name>
    <message>
        <location filename="../account_dialogs.py" line="-94"/>
        <location line="+16"/>
        <source>Change password</source>
        <translation>修改密码</translation>
    </message>
    <message>
        <location line="-12"/>
        <source>Your password was set by an administrator or has expired. Choose a new one before you continue.</source>
        <translation>您的密码由管理员设置或已过期。请先设置新密码再继续。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Choose a new password for {user}.</source>
        <translation>请为 {user} 设置新密码。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>At least 10 characters; not a common password and nothing made from your user name or name; not one of your last 5 passwords. A few unrelated words work well.</source>
        <translation>至少 10 个字符；不能是常见密码，不能由您的用户名或姓名构成；不能与最近 5 次使用的密码相同。由几个互不相关的词组成的密码效果很好。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Current password</source>
        <translation>当前密码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New password</source>
        <translation>新密码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Repeat new password</source>
        <translation>确认新密码</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Enter your current password and the new one.</source>
        <translation>请输入当前密码和新密码。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The two new passwords differ; type the new one again in both fields.</source>
        <translation>两次输入的新密码不一致；请在两个输入框中重新输入新密码。</translation>
    </message>
</context>
<context>
    <name>ChartPanel</name>
    <message>
        <location filename="../agreement_dashboard.py" line="-765"/>
        <source>Save PNG…</source>
        <translation>保存 PNG…</translation>
    </message>
</context>
<context>
    <name>CommitteeWindow</name>
    <message>
        <location filename="../committee.py" line="+35"/>
        <source>ioreview — committee ({user})</source>
        <translation>ioreview — 委员会（{user}）</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Signed in as {user} ({role})</source>
        <translation>已登录：{user}（{role}）</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>My committee sessions</source>
        <translation>我的委员会会议</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Open session</source>
        <translation>打开会议</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>New session…</source>
        <translation>新建会议…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Agreement…</source>
        <translation>一致性…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Inter- and intra-reader agreement and reader monitoring (readers by pseudonym)</source>
        <translation>阅片者间与阅片者内一致性及阅片者监测（阅片者以化名显示）</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>← Sessions</source>
        <translation>← 会议列表</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Attendance</source>
        <translation>出席</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Record attendance</source>
        <translation>记录出席</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Cases</source>
        <translation>病例</translation>
    </message>
    <message>
        <location line="+28"/>
        <location line="+542"/>
        <source>Sign ballot</source>
        <translation>签署选票</translation>
    </message>
    <message>
        <location line="-539"/>
        <source>Finalise…</source>
        <translation>定稿…</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Minutes</source>
        <translation>会议纪要</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>Attendance and cases</source>
        <extracomment>the member dragged the splitter: the panes keep their sizes from then on attendance and cases fold away for the images on a narrow window (F6)</extracomment>
        <translation>出席与病例</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Show or hide the attendance and the cases</source>
        <translation>显示或隐藏出席情况与病例</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Attendance and cases are folded away to give the images room: F6 or its toolbar button shows them again.</source>
        <extracomment>attendance and cases fold away for the images on opening a session when narrow</extracomment>
        <translation>已收起出席与病例，为图像留出空间：按 F6 或其工具栏按钮可重新显示。</translation>
    </message>
    <message>
        <location line="+100"/>
        <source>You sit on no committee session yet.</source>
        <translation>您尚未参加任何委员会会议。</translation>
    </message>
    <message>
        <location line="+47"/>
        <source>Committee session created.</source>
        <translation>委员会会议已创建。</translation>
    </message>
    <message>
        <location line="+33"/>
        <location line="+52"/>
        <source>open</source>
        <translation>进行中</translation>
    </message>
    <message>
        <location line="-52"/>
        <source>closed {when}</source>
        <translation>已于 {when} 结束</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>majority</source>
        <translation>多数</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>unanimity</source>
        <translation>一致</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{title} · chair {chair} · {status} · {rule} vote</source>
        <translation>{title} · 主席 {chair} · {status} · {rule}表决</translation>
    </message>
    <message>
        <location line="+17"/>
        <source> (chair)</source>
        <translation>（主席）</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Quorum: {present} of {members} present ({quorum} needed)</source>
        <translation>法定人数：{members} 人中 {present} 人出席（需 {quorum} 人）</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Attendance recorded.</source>
        <translation>出席已记录。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>decided</source>
        <translation>已裁定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>left the session</source>
        <translation>已退出会议</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>{case} · {timepoint} · day {day} · {status}</source>
        <translation>{case} · {timepoint} · 第 {day} 天 · {status}</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>This session has no case.</source>
        <translation>此会议没有病例。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Case {case} · {timepoint} · day {day}</source>
        <translation>病例 {case} · {timepoint} · 第 {day} 天</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Reader {letter}&apos;s annotations ({n})</source>
        <translation>阅片者 {letter} 的标注（{n}）</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Reader {letter}</source>
        <translation>阅片者 {letter}</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Rule: {rule} — {reason}</source>
        <translation>规则：{rule} — {reason}</translation>
    </message>
    <message>
        <location line="+78"/>
        <source>{voted} of {present} voted
(hidden)</source>
        <translation>{present} 人中已有 {voted} 人投票
（隐藏）</translation>
    </message>
    <message>
        <location line="-104"/>
        <source>Field</source>
        <translation>字段</translation>
    </message>
    <message>
        <location line="-20"/>
        <source>Show or hide Reader {letter}&apos;s {n} annotation(s)</source>
        <translation>显示或隐藏阅片者 {letter} 的 {n} 个标注</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Your vote</source>
        <translation>您的投票</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Tally</source>
        <translation>计票</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>{label}
(committee only)</source>
        <translation>{label}
（仅委员会）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Only the committee answers this question; readers never see it.</source>
        <translation>此问题仅由委员会回答；阅片者不会看到。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>not voted</source>
        <translation>未投票</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>The votes stay hidden until everyone present has voted.</source>
        <translation>在所有出席者投票之前，票数保持隐藏。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Casting vote…</source>
        <translation>决定票…</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>{value} (Reader {letter})</source>
        <translation>{value}（阅片者 {letter}）</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Decided: {value}</source>
        <translation>已裁定：{value}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source> (chair&apos;s casting vote)</source>
        <translation>（主席决定票）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Tie:
{counts}</source>
        <translation>持平：
{counts}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No consensus:
{counts}</source>
        <translation>未达成一致：
{counts}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{voted} of {present} voted:
{counts}</source>
        <translation>{present} 人中已投 {voted} 人：
{counts}</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>The session is closed; these are its results.</source>
        <translation>会议已结束；以下为其结果。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>You are not a member of this session.</source>
        <translation>您不是此会议的成员。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Your ballot for this case is signed.</source>
        <translation>您对此病例的选票已签署。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The chair has not recorded you as present; you cannot vote yet.</source>
        <translation>主席尚未记录您出席；您暂不能投票。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Vote on every item, then sign your ballot.</source>
        <translation>请对每一项投票，然后签署选票。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Vote on every item first: {items}.</source>
        <translation>请先对每一项投票：{items}。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>I confirm my committee votes</source>
        <translation>我确认我的委员会投票</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Enter your password to sign your ballot for case {case}. A signed ballot cannot be changed.</source>
        <translation>请输入密码以签署病例 {case} 的选票。已签署的选票不可更改。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Ballot signed.</source>
        <translation>选票已签署。</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Casting vote signed.</source>
        <translation>决定票已签署。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Close the session with minutes and your signature.</source>
        <translation>以会议纪要和您的签名结束会议。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Closed {when}.</source>
        <translation>已于 {when} 结束。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Not ready to finalise: {n} item(s) are not decided yet.</source>
        <translation>尚不能定稿：还有 {n} 项未作决定。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Not ready to finalise: {why}</source>
        <translation>尚不能定稿：{why}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Every item is decided; the chair can finalise the session.</source>
        <translation>所有项均已裁定；主席可以定稿会议。</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>Committee session finalised.</source>
        <translation>委员会会议已定稿。</translation>
    </message>
</context>
<context>
    <name>CoordinatorWindow</name>
    <message>
        <location filename="../coordinator.py" line="+625"/>
        <source>ioreview — coordination ({user})</source>
        <translation>ioreview — 试验协调（{user}）</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Users</source>
        <translation>用户</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cases</source>
        <translation>病例</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Assignments</source>
        <translation>阅片分配</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Adjudication</source>
        <translation>裁定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Outcomes</source>
        <translation>结果</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Agreement</source>
        <translation>一致性</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Burned-in text</source>
        <translation>烧录文字</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>ioreview — administration ({user})</source>
        <translation>ioreview — 系统管理（{user}）</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>&amp;Trial</source>
        <translation>试验(&amp;T)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Signed in as {user} ({role})</source>
        <translation>当前登录：{user}（{role}）</translation>
    </message>
    <message>
        <location line="+37"/>
        <source>Case {case} is not past reading yet: it is not in the adjudication list.</source>
        <translation>病例 {case} 尚未完成阅片：不在裁定列表中。</translation>
    </message>
</context>
<context>
    <name>DecisionEditor</name>
    <message>
        <location filename="../adjudication.py" line="-539"/>
        <source>Rule: {rule} — {reason}</source>
        <translation>规则：{rule} — {reason}</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Accept {letter}: {value}</source>
        <translation>采纳 {letter}：{value}</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Own value</source>
        <translation>自定取值</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Rationale (required for an own value)</source>
        <translation>理由（自定取值时必填）</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>no</source>
        <translation>否</translation>
    </message>
</context>
<context>
    <name>DecisionReasons</name>
    <message>
        <location line="-401"/>
        <source>any difference</source>
        <extracomment>UCUM units as readers write them (&quot;[hnsf&apos;U]&quot; is the Hounsfield unit) the rules (`DecisionItem.rule_code`) and reasons (`ItemReason.code`) in words; {x} and {y} are the letters of the two reads compared, {a} and {b} their values as the form shows them</extracomment>
        <translation>任何差异</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>not adjudicated</source>
        <translation>不裁定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{steps} or more steps apart</source>
        <translation>相差 {steps} 级或以上</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>differ by more than {absolute} and by more than {relative}</source>
        <translation>差值超过 {absolute} 且超过 {relative}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>presence differs, or confidence on opposite sides of indeterminate</source>
        <translation>是否存在不同，或置信度分处“不确定”两侧</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the committee&apos;s question</source>
        <translation>委员会专属问题</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>judged with the finding&apos;s presence</source>
        <translation>随该发现是否存在一并判定</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Reader {empty} left it empty; Reader {other} recorded {value}</source>
        <translation>阅片者 {empty} 未填写；阅片者 {other} 记录为 {value}</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+1"/>
        <source>{x}: {a} · {y}: {b}</source>
        <translation>{x}：{a} · {y}：{b}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>(confidence {a} vs {b})</source>
        <translation>（置信度 {a} 对 {b}）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{x}: {a} · {y}: {b}, {gap} step(s) apart (threshold {steps})</source>
        <translation>{x}：{a} · {y}：{b}，相差 {gap} 级（阈值 {steps}）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{x}: {a} · {y}: {b}, a difference of {difference} ({relative}), more than {threshold} and {threshold_relative}</source>
        <translation>{x}：{a} · {y}：{b}，差值 {difference}（{relative}），超过 {threshold} 且超过 {threshold_relative}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>confidence {x}: {a} · {y}: {b}, on opposite sides of indeterminate ({midpoint})</source>
        <translation>置信度 {x}：{a} · {y}：{b}，分处“不确定”（{midpoint}）两侧</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>decided by the committee</source>
        <translation>由委员会决定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>follows the decision on the finding&apos;s presence</source>
        <translation>随该发现是否存在的裁定而定</translation>
    </message>
</context>
<context>
    <name>ExportDialog</name>
    <message>
        <location filename="../export_dialog.py" line="+33"/>
        <source>Export the trial</source>
        <translation>导出试验数据</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>a new or empty folder</source>
        <translation>新的或空的文件夹</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>CSV</source>
        <translation>CSV</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Parquet</source>
        <translation>Parquet</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>JSON Lines</source>
        <translation>JSON Lines</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>DICOM SR of every signed read and final outcome</source>
        <translation>每份已签名阅片及最终结果的DICOM SR</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>with de-identified copies of the referenced images</source>
        <translation>附带所引用图像的去标识化副本</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Report (HTML and PDF)</source>
        <translation>报告（HTML和PDF）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>English</source>
        <translation>英文</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Simplified Chinese</source>
        <translation>简体中文</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Keep original identifiers (identified export; recorded in the audit trail)</source>
        <translation>保留原始标识符（可识别导出；记录于审计追踪）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The export is signed: meaning of this signature: &lt;b&gt;I confirm this export&lt;/b&gt;. Enter your password.</source>
        <translation>导出需要签名：签名含义：&lt;b&gt;我确认此次导出&lt;/b&gt;。请输入密码。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>%v of %m cases</source>
        <translation>%v / %m 个病例</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Folder</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Tables</source>
        <translation>数据表</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Report language</source>
        <translation>报告语言</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Export into</source>
        <translation>导出到</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Choose the folder to export into.</source>
        <translation>请选择导出的目标文件夹。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Choose at least one table format.</source>
        <translation>请至少选择一种数据表格式。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Enter your password to sign the export.</source>
        <translation>请输入密码以签署导出。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Exporting…</source>
        <translation>正在导出…</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Exported {n} files to {folder}; export {id} signed.</source>
        <translation>已导出{n}个文件到{folder}；导出{id}已签名。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>The export failed: {error}</source>
        <translation>导出失败：{error}</translation>
    </message>
</context>
<context>
    <name>FieldEditor</name>
    <message>
        <location filename="../read_form.py" line="+291"/>
        <source>From ruler</source>
        <extracomment>the field&apos;s label without the required marker</extracomment>
        <translation>取自测距</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>From region</source>
        <translation>取自区域</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>From ROI</source>
        <translation>取自 ROI</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Fill this field from the selected (or linked) annotation&apos;s measurement</source>
        <translation>用所选（或已关联）标注的测量值填写此项</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>— not answered —</source>
        <translation>— 未作答 —</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Yes</source>
        <translation>是</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No</source>
        <translation>否</translation>
    </message>
    <message>
        <location line="+5"/>
        <location line="+210"/>
        <source>Present</source>
        <translation>存在</translation>
    </message>
    <message>
        <location line="-210"/>
        <location line="+211"/>
        <source>Absent</source>
        <translation>不存在</translation>
    </message>
    <message>
        <location line="-210"/>
        <location line="+211"/>
        <source>Indeterminate</source>
        <translation>不确定</translation>
    </message>
    <message>
        <location line="-148"/>
        <source>not a valid value</source>
        <translation>不是有效值</translation>
    </message>
</context>
<context>
    <name>FinalValue</name>
    <message>
        <location filename="../coordinator.py" line="-215"/>
        <source>readers agree</source>
        <translation>阅片者一致</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>2 of 3 readers</source>
        <translation>3位阅片者中的2位</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>adjudicator</source>
        <translation>裁定者</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>committee</source>
        <translation>委员会</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>not adjudicated</source>
        <translation>未裁定</translation>
    </message>
</context>
<context>
    <name>FinaliseDialog</name>
    <message>
        <location filename="../committee.py" line="-843"/>
        <source>I confirm this committee decision and its minutes</source>
        <translation>我确认此委员会决定及其会议纪要</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Finalise committee session</source>
        <translation>定稿委员会会议</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Minutes: who attended, what was discussed, how each case was decided.</source>
        <translation>会议纪要：出席人员、讨论内容、各病例如何裁定。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Enter the minutes and your password. After signing, the session is closed and its cases are decided.</source>
        <translation>请输入会议纪要和密码。签名后，会议结束，其病例即被裁定。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Minutes</source>
        <translation>会议纪要</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Enter the minutes of the session.</source>
        <translation>请输入会议纪要。</translation>
    </message>
</context>
<context>
    <name>FindingGroup</name>
    <message>
        <location filename="../read_form.py" line="+88"/>
        <source>Link selected annotation</source>
        <translation>关联所选标注</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Link the annotation selected in the viewer to this finding</source>
        <translation>将查看器中选中的标注关联到此所见</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Unlink</source>
        <translation>取消关联</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>Linked annotations: {n}</source>
        <translation>已关联标注：{n}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No linked annotations</source>
        <translation>无已关联标注</translation>
    </message>
</context>
<context>
    <name>FirstRunDialog</name>
    <message>
        <location filename="../account_dialogs.py" line="+19"/>
        <source>ioreview — first run</source>
        <translation>ioreview — 首次运行</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>e.g. admin</source>
        <translation>例如：admin</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>printed on signatures</source>
        <translation>将显示在签名上</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>This trial database has no user accounts yet. Create the first administrator: that account then adds the coordinators, readers and adjudicators (Users tab). The same can be done on the command line with &apos;ioreview admin init&apos;.</source>
        <translation>此试验数据库尚无用户账户。请创建第一个管理员账户：再由该账户添加协调员、阅片者和裁定者（“用户”选项卡）。也可在命令行中使用 “ioreview admin init” 完成同样操作。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>User name</source>
        <translation>用户名</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Display name</source>
        <translation>显示名称</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Repeat password</source>
        <translation>确认密码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Create administrator</source>
        <translation>创建管理员</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Enter a user name.</source>
        <translation>请输入用户名。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The two passwords differ; type the password again in both fields.</source>
        <translation>两次输入的密码不一致；请在两个输入框中重新输入密码。</translation>
    </message>
</context>
<context>
    <name>Help</name>
    <message>
        <location filename="../help.py" line="-221"/>
        <source>Next / previous image</source>
        <translation>下一幅 / 上一幅图像</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Wheel</source>
        <translation>滚轮</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Zoom about the cursor</source>
        <translation>以光标为中心缩放</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ctrl+Wheel</source>
        <translation>Ctrl+滚轮</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Maximise a viewport, or restore the layout</source>
        <translation>最大化视口，或恢复布局</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Double-click</source>
        <translation>双击</translation>
    </message>
    <message>
        <location line="+69"/>
        <source>Your worklist</source>
        <extracomment>the roles that have a guide (the Help menu of each role&apos;s window opens its own)</extracomment>
        <translation>您的工作列表</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The worklist shows your own cases in your own order. Open a case with a double-click or Open case; Next unread opens the first case you have not submitted.</source>
        <translation>工作列表按您专属的顺序显示分配给您的病例。双击病例或点击“打开病例”即可打开；“下一个未阅病例”会打开您尚未提交的第一个病例。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cases are pseudonymous. Dates appear as days relative to IO insertion, never as calendar dates, and you will not see other readers&apos; reads. Read each case on its own images.</source>
        <translation>病例均已假名化。日期以相对骨髓腔内穿刺针置入日的天数显示，从不显示日历日期；您也看不到其他阅片者的阅片结果。请仅依据每个病例自身的图像进行判读。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Looking at the images</source>
        <translation>浏览图像</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Left-drag changes window/level, right-drag zooms, middle-drag pans, the wheel moves through images. Number keys pick window presets, 0 returns to the window of the image header.</source>
        <translation>左键拖动调节窗宽/窗位，右键拖动缩放，中键拖动平移，滚轮逐幅翻页。数字键选择窗宽/窗位预设，0 键恢复 DICOM 图像头中的默认窗宽/窗位。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Layouts 1x1, 1x2 and 2x2 are on the Layout group of the toolbar; in 1x2 the current image is hung beside the same view of the prior timepoint when there is one. MPR shows axial, coronal and sagittal reformats of a CT or MR series; click or drag in one pane to move the crosshair and the other panes follow.</source>
        <translation>1x1、1x2 和 2x2 布局位于工具栏的“布局”组中；在 1x2 布局下，如有既往时间点的检查，当前图像旁会挂出既往时间点的同一体位图像。MPR（多平面重建）显示 CT 或 MR 序列的轴位、冠状位和矢状位重建图像；在任一窗格中点击或拖动可移动十字定位线，其他窗格随之联动。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Hide the worklist or the read form with the toolbar&apos;s panel buttons so the images take the screen.</source>
        <translation>可使用工具栏上的面板按钮隐藏工作列表或阅片表单，让图像占满屏幕。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Measuring and annotating</source>
        <translation>测量与标注</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pick a tool from the Measure or Annotate group (or press its key) and draw on the image. Lengths and areas are in mm and name their calibration: Imager Pixel Spacing is at the detector and is not a patient size unless the magnification is corrected.</source>
        <translation>从“测量”或“标注”组中选择工具（或按其快捷键），然后在图像上绘制。长度和面积以 mm 为单位，并注明所用的校准方式：成像器像素间距（Imager Pixel Spacing）对应探测器平面，除非已校正放大率，否则并非患者体内的实际尺寸。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Click a field of a finding in the read form before drawing: the new shape documents that finding. Grow region (CT) proposes a collection&apos;s volume and mean HU for you to accept or reject; nothing is filled in without your acceptance.</source>
        <translation>绘制前先在阅片表单中点击某一所见的字段：新绘制的图形即作为该所见的记录。区域生长（CT）会给出积液/积血的体积和平均 HU，由您决定接受或拒绝；未经您接受，不会自动填写任何内容。</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+19"/>
        <source>Signing</source>
        <translation>签名</translation>
    </message>
    <message>
        <location line="-18"/>
        <source>Your draft is saved as you work. Submitting signs the read with your password and locks it; a signed read can only be amended with a reason and a new signature.</source>
        <translation>草稿会在您阅片时自动保存。提交即用您的密码对阅片签名并将其锁定；已签名的阅片只能在注明原因并重新签名后进行修订。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Your queue</source>
        <translation>您的队列</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The queue lists the cases waiting for your decision, oldest first, with the fields the two reads disagree on. Open a case with a double-click or Open case.</source>
        <translation>队列按时间先后列出等待您裁定的病例，并显示两份阅片结果不一致的字段。双击或点击“打开病例”即可打开病例。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Deciding</source>
        <translation>裁定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The readers appear as Reader A and Reader B, drawn per case; their annotations are drawn in their colours and can be hidden with the checkboxes above the forms. The discordant fields are highlighted and each names the rule that flagged it.</source>
        <translation>阅片者以“阅片者 A”和“阅片者 B”显示，每个病例单独随机分配；他们的标注以各自的颜色绘制，可用表单上方的复选框隐藏。不一致的字段会高亮显示，并注明判定其不一致的规则。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>For every discordant field accept Reader A&apos;s or Reader B&apos;s value, or give your own value with a rationale. You may measure in the viewer; your measurements are kept with the adjudication.</source>
        <translation>对每个不一致的字段，采纳阅片者 A 或阅片者 B 的值，或给出您自己的值并说明理由。您可以在阅片器中测量；您的测量结果随裁定一同保存。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Sign adjudication asks for your password; the signed decision is final for the case and leaves your queue. A case whose reads are amended later comes back with the earlier decision kept.</source>
        <translation>“签署裁定”需要输入您的密码；签署后的裁定即为该病例的最终结果，病例随即离开您的队列。若此后阅片结果被修订，病例会重新回到队列，先前的裁定仍予保留。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Sessions</source>
        <translation>会议</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The list shows the committee sessions you are a member of. The chair records who is present; votes count once the quorum is present.</source>
        <translation>列表显示您作为成员参加的委员会会议。主席记录出席情况；达到法定人数后投票方才有效。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Voting</source>
        <translation>投票</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>For every item of a case choose Reader A&apos;s or Reader B&apos;s value, or your own; questions for the committee only (such as Gurd&apos;s criteria) take your own answer. Sign ballot asks for your password. Votes may stay hidden until everyone present has voted.</source>
        <translation>对病例的每一项，选择阅片者 A 或阅片者 B 的值，或给出您自己的值；仅由委员会回答的问题（如 Gurd 标准）需填写您自己的答案。“签署选票”需要输入您的密码。在所有出席者投票之前，票数可能保持隐藏。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>On a tie the chair gives the casting vote. When every item is decided, the chair finalises the session with minutes and a signature.</source>
        <translation>票数相同时由主席投决定票。所有项目均作出决定后，主席以会议纪要和签名为会议定稿。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Setting up a trial</source>
        <translation>建立试验</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Users: add readers, adjudicators, committee members and coordinators; each chooses a password at the first log-in. Import: index DICOM folders, zip files or DICOMDIRs. Cases: build pseudonymous cases (subject x timepoint) from the studies.</source>
        <translation>用户：添加阅片者、裁定者、委员会成员和协调员；每人在首次登录时设置密码。导入：为 DICOM 文件夹、zip 文件或 DICOMDIR 建立索引。病例：由检查生成假名化病例（受试者 × 时间点）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Burned-in text: series that may carry names in their pixels are held back from readers until you mask the text or confirm that there is none.</source>
        <translation>烧录文字：像素中可能带有姓名的序列在您遮盖文字或确认没有文字之前，不会分发给阅片者。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Running the reads</source>
        <translation>组织阅片</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Assignments: generate each reader&apos;s seeded worklist (hidden re-reads are marked for you only) and reassign a case with a reason. Progress shows reads and open discordances; a click on a discordance opens its case in Adjudication.</source>
        <translation>分配：按随机种子生成每位阅片者的工作列表（隐藏的重复阅片仅对您标出），并可注明理由重新分配病例。进度：显示阅片情况和未解决的不一致；点击某个不一致即可在“裁定”中打开其病例。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Adjudication: see where every discordant case stands, reassign an adjudication or send a case to the committee. Outcomes: the final values per case and the endpoints per subject. Agreement: inter- and intra-reader agreement and reader monitoring.</source>
        <translation>裁定：查看每个不一致病例的进展，重新分配裁定或将病例提交委员会。结果：每个病例的最终值和每名受试者的终点。一致性：阅片者间与阅片者内一致性及阅片者监测。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Records</source>
        <translation>记录</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Trial &gt; Export writes the tables, codebook, SR and report, signed by you. The Audit tab lists every recorded action.</source>
        <translation>“试验 &gt; 导出”生成数据表、编码手册、SR 和报告，并由您签署。“审计”标签页列出所有已记录的操作。</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Adjudicator&apos;s guide</source>
        <translation>裁定者指南</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Committee member&apos;s guide</source>
        <translation>委员会成员指南</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Coordinator&apos;s guide</source>
        <translation>协调员指南</translation>
    </message>
    <message>
        <location line="+71"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <location line="-82"/>
        <source>Reader&apos;s guide</source>
        <translation>阅片者指南</translation>
    </message>
    <message>
        <location line="+90"/>
        <source>About ioreview</source>
        <translation>关于 ioreview</translation>
    </message>
</context>
<context>
    <name>ImageViewport</name>
    <message>
        <location filename="../viewer/viewport.py" line="+358"/>
        <source>cannot display: %1</source>
        <extracomment>MIME type of a series dragged from the browser: the series key as UTF-8 text. Frames up to this many pixels repaint through the cached 32-bit grey table while the window is unchanged (one lookup, no conversion); bigger ones fold in two threads. the overlay text colour, parsed once per `theme.OVERLAY_TEXT` value (not on every frame) The window of a colour image shown as stored: every channel&apos;s 0-255 display range. Colour of a grown region&apos;s overlay (RGB) and its opacity. CLAHE images kept per viewport. the last corner text with what it was made from (inputs but the window, window) extra layers drawn over the image and the annotations: callables (viewport, painter), e.g. other readers&apos; shapes on the adjudication screen</extracomment>
        <translation>无法显示：%1</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>full range</source>
        <translation>全范围</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>header</source>
        <translation>DICOM 默认</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <location line="+280"/>
        <source>CLAHE failed: %1</source>
        <translation>CLAHE 失败：%1</translation>
    </message>
    <message>
        <location line="+147"/>
        <source>Drop a series here</source>
        <translation>将序列拖放到此处</translation>
    </message>
    <message>
        <location line="+102"/>
        <source>Cine %1 fps</source>
        <extracomment>Largest pre-scaled image, in widget areas; above it (zoomed in) only the visible part is drawn through the painter transform. Pre-scaling only when the image&apos;s edges fall this close to whole device pixels (fit to window, whole-pixel pans): a fractional offset is drawn through the painter transform so that it stays exact rather than moved up to half a pixel.</extracomment>
        <translation>电影回放 %1 fps</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>CLAHE</source>
        <translation>CLAHE</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>CLAHE: computing…</source>
        <translation>CLAHE：计算中…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Fat map %1..%2 HU</source>
        <translation>脂肪图 %1..%2 HU</translation>
    </message>
</context>
<context>
    <name>ImportTab</name>
    <message>
        <location filename="../coordinator.py" line="-714"/>
        <source>folder, zip file or DICOMDIR</source>
        <translation>文件夹、zip 文件或 DICOMDIR</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose folder…</source>
        <translation>选择文件夹…</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+33"/>
        <location line="+37"/>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <location line="-64"/>
        <source>%v of %m files</source>
        <translation>%v / %m 个文件</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Folder with DICOM files</source>
        <translation>包含 DICOM 文件的文件夹</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Choose a folder first.</source>
        <translation>请先选择文件夹。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Importing {path} …</source>
        <translation>正在导入 {path} …</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Done: {seen} files seen, {imported} imported, {dups} duplicates, {rej} rejected; new: {p} patients, {st} studies, {se} series.</source>
        <translation>完成：共扫描 {seen} 个文件，导入 {imported} 个，重复 {dups} 个，拒收 {rej} 个；新增 {p} 名患者、{st} 项检查、{se} 个序列。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Import failed: {error}</source>
        <translation>导入失败：{error}</translation>
    </message>
</context>
<context>
    <name>KeyBindingsDialog</name>
    <message>
        <location filename="../viewer/keys_dialog.py" line="+39"/>
        <source>Key bindings</source>
        <extracomment>Keys per action the dialog edits (a main key and one alternative).</extracomment>
        <translation>快捷键</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Key</source>
        <translation>按键</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Alternative</source>
        <translation>备用按键</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>Click a key field and press the new key; the cross clears it.</source>
        <translation>点击按键栏后按下新按键；点击叉号可清除。</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>%1 is bound to: %2</source>
        <translation>%1 已绑定到：%2</translation>
    </message>
</context>
<context>
    <name>Keymap</name>
    <message>
        <location filename="../viewer/keymap.py" line="+125"/>
        <source>Move through images</source>
        <extracomment>Default keys; an action may have several, separated by &quot;;&quot; in settings. The groups of the shortcut sheet, in the order it lists them.</extracomment>
        <translation>图像翻页</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Tools of the left button</source>
        <translation>左键工具</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Window presets</source>
        <translation>窗宽/窗位预设</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>View</source>
        <translation>视图</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mouse</source>
        <translation>鼠标</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Window</source>
        <translation>窗口</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Window/level</source>
        <translation>窗宽/窗位</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Zoom</source>
        <translation>缩放</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pan</source>
        <translation>平移</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Scroll images</source>
        <translation>翻页</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Nothing</source>
        <translation>无操作</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Left-drag</source>
        <translation>左键拖动</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Right-drag</source>
        <translation>右键拖动</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Middle-drag</source>
        <translation>中键拖动</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>Window preset %1</source>
        <translation>窗宽/窗位预设 %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Next image</source>
        <translation>下一幅图像</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Previous image</source>
        <translation>上一幅图像</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>First image</source>
        <translation>第一幅图像</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Last image</source>
        <translation>最后一幅图像</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Next series</source>
        <translation>下一个序列</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Previous series</source>
        <translation>上一个序列</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start/stop cine</source>
        <translation>开始/停止电影回放</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Flip horizontally</source>
        <translation>水平翻转</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Flip vertically</source>
        <translation>垂直翻转</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Invert grey scale</source>
        <translation>灰阶反转</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Rotate 90° clockwise</source>
        <translation>顺时针旋转 90°</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reset view</source>
        <translation>重置视图</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete selected annotation</source>
        <translation>删除所选标注</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Window from the image header</source>
        <translation>使用 DICOM 默认窗宽/窗位</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Window/level, zoom and pan (no drawing)</source>
        <translation>窗宽/窗位、缩放和平移（不绘制）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Length</source>
        <translation>长度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Angle</source>
        <translation>角度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ellipse ROI</source>
        <translation>椭圆 ROI</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Polygon ROI</source>
        <translation>多边形 ROI</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Freehand ROI</source>
        <translation>手绘 ROI</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Arrow</source>
        <translation>箭头</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Point</source>
        <translation>点</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Grow region (CT)</source>
        <translation>区域生长（CT）</translation>
    </message>
</context>
<context>
    <name>LockOverlay</name>
    <message>
        <location filename="../lock_screen.py" line="+191"/>
        <source>Session locked</source>
        <translation>会话已锁定</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Your draft has been kept; it is saved again as soon as you unlock.</source>
        <translation>您的草稿已保留，解锁后将立即重新保存。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Unlock</source>
        <translation>解锁</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Log out</source>
        <translation>退出登录</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>Signed in as {user}</source>
        <translation>当前登录：{user}</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Enter your password to unlock.</source>
        <translation>请输入密码以解锁。</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <location filename="../login.py" line="+41"/>
        <source>ioreview — log in</source>
        <translation>ioreview — 登录</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Blinded imaging review</source>
        <translation>盲法影像评估</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>user name</source>
        <translation>用户名</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>User name</source>
        <translation>用户名</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Log in</source>
        <translation>登录</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Enter your user name and password.</source>
        <translation>请输入用户名和密码。</translation>
    </message>
</context>
<context>
    <name>MaskCanvas</name>
    <message>
        <location filename="../burned_in.py" line="-132"/>
        <source>Select a series to see its first frame.</source>
        <translation>选择一个序列以查看其第一帧。</translation>
    </message>
</context>
<context>
    <name>MeasurementTools</name>
    <message>
        <location filename="../viewer/tools.py" line="+61"/>
        <source>at detector</source>
        <extracomment>The tool that leaves the left button to window/level and only edits existing shapes. The tool whose left click picks the seed of a grown region (the viewer grows it).</extracomment>
        <translation>探测器平面</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>magnification corrected</source>
        <translation>已校正放大率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>US region</source>
        <translation>超声区域</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>uncalibrated</source>
        <translation>未校准</translation>
    </message>
    <message>
        <location line="+73"/>
        <location line="+10"/>
        <source>Area %1 %2</source>
        <translation>面积 %1 %2</translation>
    </message>
    <message>
        <location line="-8"/>
        <source>Mean %1 ± %2%3</source>
        <translation>均值 %1 ± %2%3</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Min %1  Max %2%3</source>
        <translation>最小 %1  最大 %2%3</translation>
    </message>
</context>
<context>
    <name>MprView</name>
    <message>
        <location filename="../viewer/overlays.py" line="+69"/>
        <source>axial</source>
        <extracomment>the planes&apos; names, translated where drawn (`plane_title`)</extracomment>
        <translation>轴位</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>coronal</source>
        <translation>冠状位</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>sagittal</source>
        <translation>矢状位</translation>
    </message>
    <message>
        <location filename="../viewer/mpr.py" line="+291"/>
        <source>Loading volume…</source>
        <extracomment>The colour of each plane&apos;s reference line (and of its pane&apos;s crosshair lines). A press and release closer than this (pixels) is a click that moves the crosshair. the crosshair: (z, y, x) indices into the volume array</extracomment>
        <translation>正在加载容积数据…</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Volume %1</source>
        <translation>容积 %1</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Cannot reformat: %1</source>
        <translation>无法重建：%1</translation>
    </message>
</context>
<context>
    <name>NewPanelSessionDialog</name>
    <message>
        <location filename="../committee.py" line="-235"/>
        <source>New committee session</source>
        <translation>新建委员会会议</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>e.g. Committee meeting of 12 March</source>
        <translation>例如：3月12日委员会会议</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>No case is waiting for the committee.</source>
        <translation>没有等待委员会的病例。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Chair</source>
        <translation>主席</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Members</source>
        <translation>成员</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cases waiting for the committee</source>
        <translation>等待委员会的病例</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Create session</source>
        <translation>创建会议</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Choose a chair.</source>
        <translation>请选择主席。</translation>
    </message>
</context>
<context>
    <name>OutcomesTab</name>
    <message>
        <location filename="../coordinator.py" line="+653"/>
        <source>Case</source>
        <translation>病例</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Timepoint</source>
        <translation>时间点</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stage</source>
        <translation>阶段</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Field</source>
        <translation>字段</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Value</source>
        <translation>取值</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Detail</source>
        <translation>详情</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Only cases with a final outcome</source>
        <translation>仅显示有最终结果的病例</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Subject</source>
        <translation>受试者</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Finding</source>
        <translation>发现</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Present at any timepoint</source>
        <translation>任一时间点存在</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>pending</source>
        <translation>待定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>First timepoint</source>
        <translation>首次时间点</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{timepoint} (day {day})</source>
        <translation>{timepoint}（第 {day} 天）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Worst severity</source>
        <translation>最严重程度</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Complete</source>
        <translation>完成</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>{final} of {total} cases</source>
        <translation>{total} 个病例中 {final} 个</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Final values per case</source>
        <translation>各病例最终取值</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Endpoints per subject</source>
        <translation>各受试者终点</translation>
    </message>
</context>
<context>
    <name>PanelSessionsModel</name>
    <message>
        <location filename="../committee.py" line="-104"/>
        <source>open</source>
        <extracomment>accounts that may sit on a committee (the service checks it again)</extracomment>
        <translation>进行中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>closed</source>
        <translation>已结束</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Chair</source>
        <translation>主席</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cases</source>
        <translation>病例</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Members</source>
        <translation>成员</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Created</source>
        <translation>创建时间</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Closed</source>
        <translation>结束时间</translation>
    </message>
</context>
<context>
    <name>Paradigm</name>
    <message>
        <location filename="../coordinator.py" line="-248"/>
        <source>2 readers + adjudicator</source>
        <translation>2位阅片者 + 裁定者</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>2 of 3 readers</source>
        <translation>3位阅片者中的2位</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>consensus committee</source>
        <translation>共识委员会</translation>
    </message>
</context>
<context>
    <name>ProgressTab</name>
    <message>
        <location line="-216"/>
        <source>Reader</source>
        <extracomment>the label of the case whose open discordance was clicked</extracomment>
        <translation>阅片者</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Assigned</source>
        <translation>已分配</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+100"/>
        <source>Submitted</source>
        <translation>已提交</translation>
    </message>
    <message>
        <location line="-99"/>
        <location line="+101"/>
        <source>In progress</source>
        <translation>进行中</translation>
    </message>
    <message>
        <location line="-100"/>
        <location line="+102"/>
        <source>Not started</source>
        <translation>未开始</translation>
    </message>
    <message>
        <location line="-100"/>
        <source>Done</source>
        <translation>完成率</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Case</source>
        <translation>病例</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Discordant fields</source>
        <translation>不一致的项目</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Click a case to show it in the Adjudication tab; double-click for its status</source>
        <translation>单击病例可在“裁定”选项卡中显示；双击可查看其状态</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Cases read per reader</source>
        <translation>各阅片者已阅病例数</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Reads per reader</source>
        <translation>各阅片者阅片情况</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Open discordances</source>
        <translation>未解决的不一致</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>{complete} of {total} cases complete · {open} open discordance(s)</source>
        <translation>{total} 个病例中已完成 {complete} 个 · {open} 处不一致待解决</translation>
    </message>
    <message>
        <location line="+68"/>
        <source>cases</source>
        <translation>病例数</translation>
    </message>
</context>
<context>
    <name>ProtocolVersionsTab</name>
    <message>
        <location filename="../admin.py" line="-148"/>
        <source>Protocol</source>
        <translation>方案</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Installed</source>
        <translation>安装时间</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>SHA-256</source>
        <translation>SHA-256</translation>
    </message>
    <message>
        <location line="-4"/>
        <source>Active</source>
        <translation>当前启用</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Compare the two selected versions</source>
        <translation>比较所选的两个版本</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Select two versions to see what changed between them.</source>
        <translation>请选择两个版本以查看两者之间的变更。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Changed settings and fields</source>
        <translation>变更的设置和字段</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Protocol file (TOML) line by line</source>
        <translation>方案文件（TOML）逐行对比</translation>
    </message>
    <message>
        <location line="+42"/>
        <source>From {old} (installed {t_old}) to {new} (installed {t_new})</source>
        <translation>从 {old}（安装于 {t_old}）到 {new}（安装于 {t_new}）</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The two files are identical.</source>
        <translation>两个文件完全相同。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>No setting or field differs.</source>
        <translation>没有任何设置或字段存在差异。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>added</source>
        <translation>已添加</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>removed</source>
        <translation>已删除</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>changed</source>
        <translation>已更改</translation>
    </message>
</context>
<context>
    <name>ReadFormPanel</name>
    <message>
        <location filename="../read_form.py" line="+43"/>
        <source>image …{uid}</source>
        <translation>图像 …{uid}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source> frame {frame}</source>
        <translation> 第 {frame} 帧</translation>
    </message>
    <message>
        <location line="+88"/>
        <source>Submit and sign…</source>
        <translation>提交并签名…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Amend…</source>
        <translation>修订…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Sign amendment…</source>
        <translation>签署修订…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Cancel amendment</source>
        <translation>取消修订</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>No case open — double-click a case in your worklist to read it.</source>
        <translation>未打开病例 — 在工作列表中双击病例开始阅片。</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>day {days:+d}</source>
        <translation>{days:+d} 天</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>day unknown</source>
        <translation>天数未知</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Case {label} · {timepoint} · {day}</source>
        <translation>病例 {label} · {timepoint} · {day}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Draft loaded</source>
        <translation>已载入草稿</translation>
    </message>
    <message>
        <location line="+65"/>
        <source>Read</source>
        <translation>阅片</translation>
    </message>
    <message>
        <location line="+82"/>
        <source>The read is complete and can be signed.</source>
        <translation>阅片已填写完整，可以签名。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>{n} required answer(s) missing</source>
        <translation>{n} 项必答内容未填</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{n} invalid</source>
        <translation>{n} 项无效</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{n} to clear</source>
        <translation>{n} 项需清除</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{n} contradictory</source>
        <translation>{n} 项相互矛盾</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{n} unknown</source>
        <translation>{n} 项未知</translation>
    </message>
    <message>
        <location line="+1"/>
        <source> — hover for the list; the read can be signed when none are left.</source>
        <translation> — 鼠标悬停可查看列表；全部处理后即可签名。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Unsaved changes…</source>
        <translation>有未保存的更改…</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Not saved: {error}</source>
        <translation>未保存：{error}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Draft saved</source>
        <translation>草稿已保存</translation>
    </message>
    <message>
        <location line="+39"/>
        <source>Time on case {m}:{s:02d}</source>
        <translation>本病例用时 {m}:{s:02d}</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>{k} key image(s)</source>
        <translation>{k} 幅关键图像</translation>
    </message>
    <message>
        <location line="+2"/>
        <source> · {n} unlinked annotation(s)</source>
        <translation> · {n} 个未关联标注</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>Select an annotation in the viewer first, then link it.</source>
        <translation>请先在查看器中选择一个标注，再进行关联。</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>No fitting measurement: select a measured ROI or length in the viewer.</source>
        <translation>没有可用的测量值：请在查看器中选择已测量的 ROI 或长度。</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Signed and locked (version {v}). Changes need a signed amendment with a reason.</source>
        <translation>已签名并锁定（第 {v} 版）。如需更改，须提交注明原因并签名的修订。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Version {v}: {manifest}</source>
        <translation>第 {v} 版：{manifest}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>— reason: {reason}</source>
        <translation>— 原因：{reason}</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Amending a signed read: change the values, then sign the amendment. The signed version is kept.</source>
        <translation>正在修订已签名的阅片：修改相应内容后签署修订。已签名的版本将被保留。</translation>
    </message>
    <message>
        <location line="-1040"/>
        <source>I confirm this read</source>
        <translation>我确认此阅片结果</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>arrow</source>
        <translation>箭头</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>length</source>
        <translation>长度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>angle</source>
        <translation>角度</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>ellipse</source>
        <translation>椭圆</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>polygon</source>
        <translation>多边形</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>freehand</source>
        <translation>手绘</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>point</source>
        <translation>点</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>region</source>
        <translation>区域</translation>
    </message>
    <message>
        <location line="+468"/>
        <source>Yes</source>
        <translation>是</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>No</source>
        <translation>否</translation>
    </message>
    <message>
        <location line="+627"/>
        <source>{n} annotation(s), {m} with measurements</source>
        <translation>{n} 个标注，其中 {m} 个含测量值</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>nothing answered</source>
        <translation>未作答任何项</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Images</source>
        <translation>图像</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{k} key image(s), {n} annotation(s) linked to no finding</source>
        <translation>{k} 幅关键图像，{n} 个标注未关联任何所见</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>{n} annotation(s) are linked to no finding: they are signed with the read but support no finding. To link one, cancel, select it in the viewer and press &quot;Link selected annotation&quot; under its finding; or sign as it is.</source>
        <translation>{n} 个标注未关联任何所见：它们会随阅片一起签名，但不作为任何所见的依据。如需关联，请取消，在查看器中选中该标注，再点击相应所见下的“关联所选标注”；或按现状签名。</translation>
    </message>
    <message>
        <location line="+77"/>
        <location line="+49"/>
        <source>Signed</source>
        <translation>已签名</translation>
    </message>
    <message>
        <location line="-10"/>
        <source>I confirm this amended read</source>
        <translation>本人确认此修订后的阅片</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Sign amendment</source>
        <translation>签署修订</translation>
    </message>
</context>
<context>
    <name>ReaderLayers</name>
    <message>
        <location filename="../adjudication.py" line="+246"/>
        <source>Reader {letter}</source>
        <extracomment>the text blocks of the last paint of each pane (what `text_blocks` returns)</extracomment>
        <translation>阅片者 {letter}</translation>
    </message>
</context>
<context>
    <name>ReadingWindow</name>
    <message>
        <location filename="../reading.py" line="+500"/>
        <source>ioreview — reading ({user})</source>
        <extracomment>where the trial database is, for Help &gt; About (the app passes it in)</extracomment>
        <translation>ioreview — 阅片（{user}）</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>My worklist</source>
        <translation>我的工作列表</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Open case</source>
        <translation>打开病例</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Next unread</source>
        <translation>下一个未阅病例</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>&amp;View</source>
        <extracomment>the reader dragged the splitter (here or in an earlier session): keep their sizes</extracomment>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Signed in as {user} (reader)</source>
        <translation>当前登录：{user}（阅片者）</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Worklist</source>
        <translation>工作列表</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Show or hide the worklist</source>
        <translation>显示或隐藏工作列表</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Read form</source>
        <translation>阅片表单</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Show or hide the read form</source>
        <translation>显示或隐藏阅片表单</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>The worklist is folded away to give the images room: F6 or its toolbar button shows it again.</source>
        <extracomment>the worklist folds away for the images on opening a case (not remembered)</extracomment>
        <translation>已收起工作列表，为图像留出空间：按 F6 或其工具栏按钮可重新显示。</translation>
    </message>
    <message>
        <location line="+85"/>
        <source>{total} cases · {new} new · {prog} in progress · {done} submitted</source>
        <translation>共 {total} 个病例 · 未阅 {new} · 阅片中 {prog} · 已提交 {done}</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>All cases of your worklist are submitted.</source>
        <translation>您工作列表中的所有病例均已提交。</translation>
    </message>
    <message>
        <location line="+51"/>
        <source>Read signed and locked.</source>
        <translation>阅片已签名并锁定。</translation>
    </message>
</context>
<context>
    <name>ReassignDialog</name>
    <message>
        <location filename="../assignments_view.py" line="-220"/>
        <source>Reassign {case}</source>
        <translation>重新分配 {case}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Case &lt;b&gt;{case}&lt;/b&gt; ({purpose}) is now assigned to &lt;b&gt;{reader}&lt;/b&gt;, read status: {status}.</source>
        <translation>病例 &lt;b&gt;{case}&lt;/b&gt;（{purpose}）目前分配给 &lt;b&gt;{reader}&lt;/b&gt;，阅片状态：{status}。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The new reader starts with an empty read. A draft of the current reader is withdrawn: its answers are kept in the audit trail, and the case leaves that reader&apos;s worklist. A hidden re-read of the case that is not signed moves with it.</source>
        <translation>新阅片者将从空白阅片开始。当前阅片者的草稿将被撤回：其作答内容保留在审计追踪中，该病例也会从该阅片者的工作列表中移除。该病例尚未签名的隐藏重复阅片也一并转移。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Why does the case go to another reader? (kept in the audit trail)</source>
        <translation>为何将该病例转给其他阅片者？（记录于审计追踪）</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>New reader</source>
        <translation>新阅片者</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reason *</source>
        <translation>原因 *</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Reassign</source>
        <translation>重新分配</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>No active reader is free of this case: create or activate a reader first.</source>
        <translation>没有未参与此病例的在职阅片者：请先创建或启用一名阅片者。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Enter the reason for the reassignment.</source>
        <translation>请输入重新分配的原因。</translation>
    </message>
</context>
<context>
    <name>RecordTableModel</name>
    <message>
        <location filename="../table_model.py" line="+28"/>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>no</source>
        <translation>否</translation>
    </message>
</context>
<context>
    <name>RegionPanel</name>
    <message>
        <location filename="../viewer/assist.py" line="+63"/>
        <source>Grown region</source>
        <translation>生长区域</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Voxels within this many HU of the seed value join the region</source>
        <translation>与种子点 CT 值相差在此 HU 范围内的体素将并入区域</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Accept</source>
        <translation>接受</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Use this volume and mean HU for the current finding</source>
        <translation>将此体积和平均 HU 用于当前所见</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reject</source>
        <translation>拒绝</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Discard the proposed region</source>
        <translation>舍弃建议的区域</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Tolerance ±</source>
        <translation>容差 ±</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Band</source>
        <translation>HU 区间</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>Growing the region…</source>
        <translation>正在进行区域生长…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>[band %1..%2 HU]</source>
        <translation>[区间 %1..%2 HU]</translation>
    </message>
</context>
<context>
    <name>Roles</name>
    <message>
        <location filename="../roles.py" line="+14"/>
        <source>reader</source>
        <translation>阅片者</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>adjudicator</source>
        <translation>裁定者</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>committee</source>
        <translation>委员会成员</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>coordinator</source>
        <translation>协调员</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>admin</source>
        <translation>管理员</translation>
    </message>
</context>
<context>
    <name>SeriesBrowser</name>
    <message numerus="yes">
        <location filename="../viewer/browser.py" line="+105"/>
        <source>%n image(s)</source>
        <extracomment>Thumbnails start this long after the series are set: decoders hold the GIL, so a thumbnail decoded at once would delay the first image of the viewports by its decode.</extracomment>
        <translation>
            <numerusform>%n 幅图像</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>SessionController</name>
    <message>
        <location filename="../lock_screen.py" line="-171"/>
        <source>Locked after {minutes:g} minutes without activity.</source>
        <translation>{minutes:g} 分钟无操作，已自动锁定。</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Your session has timed out.</source>
        <translation>您的会话已超时。</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>Unexpected error: {error}</source>
        <translation>意外错误：{error}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>ioreview</source>
        <translation>ioreview</translation>
    </message>
</context>
<context>
    <name>SessionMenu</name>
    <message>
        <location filename="../session_menu.py" line="+22"/>
        <source>&amp;Session</source>
        <translation>会话(&amp;S)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Load what is new from the trial database</source>
        <translation>从试验数据库载入最新内容</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Lock screen</source>
        <translation>锁定屏幕</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Locked by the user.</source>
        <translation>已由用户锁定。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Log out</source>
        <translation>退出登录</translation>
    </message>
</context>
<context>
    <name>ShortcutSheetDialog</name>
    <message>
        <location filename="../help.py" line="-247"/>
        <source>Keyboard and mouse shortcuts</source>
        <translation>键盘与鼠标快捷操作</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Keys</source>
        <translation>按键</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>(not bound)</source>
        <translation>（未绑定）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Keys can be changed under Help &gt; Key bindings…</source>
        <translation>可在“帮助 &gt; 快捷键…”中更改按键。</translation>
    </message>
</context>
<context>
    <name>SignDialog</name>
    <message>
        <location filename="../sign_dialog.py" line="+65"/>
        <source>Sign read</source>
        <translation>签署阅片</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>I confirm this read</source>
        <translation>我确认此阅片结果</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Meaning of this signature: &lt;b&gt;{meaning}&lt;/b&gt;</source>
        <translation>签名含义：&lt;b&gt;{meaning}&lt;/b&gt;</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Signed by: {signer}</source>
        <translation>签名人：{signer}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Enter your password to sign. After signing, the read is locked and can only be changed by a signed amendment.</source>
        <translation>请输入密码以签名。签名后阅片结果即被锁定，只能通过签名修订进行更改。</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>You are signing:</source>
        <translation>您正在签署：</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Why is the read being amended?</source>
        <translation>修订此阅片的原因？</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Sign</source>
        <translation>签名</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Enter the reason for the amendment.</source>
        <translation>请输入修订原因。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Enter your password to sign.</source>
        <translation>请输入密码以签名。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Signature rejected: {detail}</source>
        <translation>签名被拒绝：{detail}</translation>
    </message>
</context>
<context>
    <name>Signature</name>
    <message>
        <location filename="../read_form.py" line="-1225"/>
        <source>I confirm this read</source>
        <translation>我确认此阅片结果</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>I confirm this amended read</source>
        <translation>本人确认此修订后的阅片</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>I confirm this adjudication</source>
        <translation>我确认此裁定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>I confirm my committee votes</source>
        <translation>我确认我的委员会投票</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>I confirm my casting vote as chair</source>
        <translation>本人作为主席确认我的决定性投票</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>I confirm this committee decision and its minutes</source>
        <translation>我确认此委员会决定及其会议纪要</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>I confirm this export</source>
        <translation>我确认此次导出</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Signed by {name} ({user}) on {utc} UTC ({local} local) — meaning: {meaning}</source>
        <translation>签名人 {name}（{user}），签名时间 {utc} UTC（本地时间 {local}）— 含义：{meaning}</translation>
    </message>
</context>
<context>
    <name>TablePanel</name>
    <message>
        <location filename="../agreement_dashboard.py" line="+47"/>
        <source>Save CSV…</source>
        <translation>保存 CSV…</translation>
    </message>
</context>
<context>
    <name>TagBrowser</name>
    <message>
        <location filename="../viewer/tag_browser.py" line="+31"/>
        <source>%1 item(s)</source>
        <extracomment>A row as hosts hand it over: a `TagRow`, or a (tag, keyword, value) tuple.</extracomment>
        <translation>%1 项</translation>
    </message>
</context>
<context>
    <name>TagBrowserDialog</name>
    <message>
        <location line="+8"/>
        <source>DICOM tags</source>
        <translation>DICOM 标签</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Filter by tag, keyword or value</source>
        <translation>按标签、关键字或值筛选</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Tag</source>
        <translation>标签</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Keyword</source>
        <translation>关键字</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Value</source>
        <translation>值</translation>
    </message>
</context>
<context>
    <name>UserDialog</name>
    <message>
        <location filename="../coordinator.py" line="-583"/>
        <source>Add user</source>
        <translation>添加用户</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>User name</source>
        <translation>用户名</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Display name</source>
        <translation>显示名称</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Initial password</source>
        <translation>初始密码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Repeat password</source>
        <translation>确认密码</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Enter a user name.</source>
        <translation>请输入用户名。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The two passwords differ.</source>
        <translation>两次输入的密码不一致。</translation>
    </message>
</context>
<context>
    <name>UsersTab</name>
    <message>
        <location line="+20"/>
        <source>User name</source>
        <translation>用户名</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Display name</source>
        <translation>显示名称</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Active</source>
        <translation>已启用</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Failed log-ins</source>
        <translation>登录失败次数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Locked</source>
        <translation>锁定状态</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>locked</source>
        <translation>已锁定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>must be changed</source>
        <translation>须修改</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Add user…</source>
        <translation>添加用户…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Deactivate / reactivate</source>
        <translation>停用 / 重新启用</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Reset password…</source>
        <translation>重置密码…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Unlock account</source>
        <translation>解锁账户</translation>
    </message>
    <message>
        <location line="+40"/>
        <location line="+9"/>
        <location line="+9"/>
        <source>Users</source>
        <translation>用户</translation>
    </message>
    <message>
        <location line="-18"/>
        <location line="+9"/>
        <location line="+9"/>
        <source>Select a user first.</source>
        <translation>请先选择一个用户。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Reset password of {user}</source>
        <translation>重置 {user} 的密码</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>New password</source>
        <translation>新密码</translation>
    </message>
</context>
<context>
    <name>ViewApp</name>
    <message>
        <location filename="../view_app.py" line="+57"/>
        <source>no image (e.g. a report or a DICOMDIR)</source>
        <translation>无图像（例如报告或 DICOMDIR）</translation>
    </message>
    <message>
        <location line="+43"/>
        <source>%1 file(s) not shown: %2</source>
        <translation>%1 个文件未显示：%2</translation>
    </message>
    <message>
        <location line="+2"/>
        <source> and %1 more</source>
        <translation> 等，另有 %1 个</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>No DICOM images found</source>
        <translation>未找到 DICOM 图像</translation>
    </message>
</context>
<context>
    <name>ViewerOverlay</name>
    <message>
        <location filename="../viewer/overlays.py" line="-44"/>
        <source>mm (Pixel Spacing, in patient)</source>
        <translation>mm（像素间距，患者平面）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>mm (Imager Pixel Spacing, at detector)</source>
        <translation>mm（成像器像素间距，探测器平面）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>mm (Imager Pixel Spacing corrected by Estimated Radiographic Magnification Factor)</source>
        <translation>mm（成像器像素间距，已按估计放大系数校正）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>mm (Ultrasound region calibration)</source>
        <translation>mm（超声区域校准）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>px (uncalibrated)</source>
        <translation>px（未校准）</translation>
    </message>
    <message>
        <location line="+73"/>
        <source>Series %1</source>
        <translation>序列 %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Im %1 / %2</source>
        <translation>图像 %1 / %2</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Frame %1 / %2</source>
        <translation>帧 %1 / %2</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Pos %1 mm</source>
        <translation>位置 %1 mm</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Thk %1 mm</source>
        <translation>层厚 %1 mm</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Loading %1 / %2</source>
        <translation>加载中 %1 / %2</translation>
    </message>
    <message>
        <location line="-42"/>
        <source>W %1  L %2</source>
        <translation>窗宽 %1  窗位 %2</translation>
    </message>
    <message>
        <location line="+47"/>
        <source>Inverted</source>
        <translation>反相</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Zoom %1%</source>
        <translation>缩放 %1%</translation>
    </message>
</context>
<context>
    <name>ViewerWidget</name>
    <message>
        <location filename="../viewer/viewer_window.py" line="+118"/>
        <source>View</source>
        <translation>视图</translation>
    </message>
    <message>
        <location line="-1"/>
        <source>Navigate</source>
        <translation>浏览</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Measure</source>
        <translation>测量</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Annotate</source>
        <translation>标注</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Assistive tools</source>
        <translation>辅助工具</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Layout</source>
        <translation>布局</translation>
    </message>
    <message>
        <location line="+105"/>
        <source>Window/level</source>
        <translation>窗宽/窗位</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Window/level, zoom, pan and scroll; edit annotations</source>
        <translation>窗宽/窗位、缩放、平移和翻页；编辑标注</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cine</source>
        <translation>电影回放</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Play/stop cine</source>
        <translation>播放/停止电影回放</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Sync</source>
        <translation>同步</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Synchronise scrolling and zoom of viewports in the same frame of reference</source>
        <translation>同步同一参考坐标系中各视口的翻页和缩放</translation>
    </message>
    <message>
        <location line="+14"/>
        <location line="+6"/>
        <location line="+4"/>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <location line="-7"/>
        <location line="+4"/>
        <location line="+4"/>
        <source>Redo</source>
        <translation>重做</translation>
    </message>
    <message>
        <location line="-1"/>
        <source>Undo %1</source>
        <translation>撤销%1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Redo %1</source>
        <translation>重做%1</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Grow region</source>
        <translation>区域生长</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Click inside a collection on CT: proposes its volume and mean HU for you to accept or reject</source>
        <translation>在 CT 图像上点击积液或积血内部：系统给出其体积和平均 HU，由您决定接受或拒绝</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Fat map</source>
        <translation>脂肪图</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Colour fat-attenuation pixels of CT slices</source>
        <translation>为 CT 层面中的脂肪密度像素着色</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>CLAHE</source>
        <translation>CLAHE</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Contrast-limited adaptive histogram equalisation of radiographs (for looking only)</source>
        <translation>对 X 线片进行限制对比度自适应直方图均衡化（仅供观察）</translation>
    </message>
    <message>
        <location line="+5"/>
        <location line="+2"/>
        <source>Window presets</source>
        <translation>窗宽/窗位预设</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Invert grey scale</source>
        <translation>灰阶反转</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Flip horizontally</source>
        <translation>水平翻转</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Flip vertically</source>
        <translation>垂直翻转</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Rotate 90° clockwise</source>
        <translation>顺时针旋转 90°</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reset view</source>
        <translation>重置视图</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Tags</source>
        <translation>标签</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>DICOM tags of the image on screen</source>
        <translation>当前显示图像的 DICOM 标签</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Key bindings…</source>
        <translation>快捷键…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Layout %1</source>
        <translation>布局 %1</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>MPR</source>
        <translation>MPR</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Axial, coronal and sagittal reformats</source>
        <translation>轴位、冠状位和矢状位多平面重建</translation>
    </message>
    <message>
        <location line="+216"/>
        <source>No tags to show for this image</source>
        <translation>此图像没有可显示的标签</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>The fat map shows on CT series</source>
        <translation>脂肪图仅用于 CT 序列</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>CLAHE applies to radiographs (DX, CR)</source>
        <translation>CLAHE 仅用于 X 线片（DX、CR）</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Region growing works on a CT series of equally sized slices</source>
        <translation>区域生长仅适用于各层尺寸一致的 CT 序列</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Waiting for the series to finish loading…</source>
        <translation>正在等待序列加载完成…</translation>
    </message>
    <message>
        <location line="+59"/>
        <source>%1 mL, mean %2 HU</source>
        <translation>%1 mL，平均 %2 HU</translation>
    </message>
    <message>
        <location line="+57"/>
        <source>Header window</source>
        <translation>DICOM 默认窗宽/窗位</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Reformats need a CT or MR series of at least three slices</source>
        <translation>重建需要至少包含三个层面的 CT 或 MR 序列</translation>
    </message>
</context>
<context>
    <name>ViewerWindow</name>
    <message>
        <location line="+72"/>
        <source>ioreview viewer</source>
        <translation>ioreview 图像查看器</translation>
    </message>
</context>
<context>
    <name>VoteEditor</name>
    <message>
        <location filename="../committee.py" line="+193"/>
        <source>— choose —</source>
        <translation>— 请选择 —</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Reader {letter}</source>
        <translation>阅片者 {letter}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Own value</source>
        <translation>自定取值</translation>
    </message>
</context>
<context>
    <name>WorklistModel</name>
    <message>
        <location filename="../reading.py" line="-651"/>
        <source>new</source>
        <translation>未阅</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>in progress</source>
        <translation>阅片中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>submitted</source>
        <translation>已提交</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>#</source>
        <translation>序号</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Case</source>
        <translation>病例</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Timepoint</source>
        <translation>时间点</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Day</source>
        <translation>天数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Days relative to IO insertion</source>
        <translation>相对骨髓腔内穿刺针置入日的天数</translation>
    </message>
</context>
<context>
    <name>_EmbeddedViewerAdapter</name>
    <message>
        <location line="+180"/>
        <source>Key image</source>
        <translation>关键图像</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mark or unmark the image on screen as a key image (K)</source>
        <translation>将当前显示的图像标记为关键图像或取消标记（K）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Mark or unmark the image on screen as a key image</source>
        <translation>将当前显示的图像标记为关键图像或取消标记</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Prior {timepoint} (day {day}): {description}</source>
        <translation>既往 {timepoint}（第 {day} 天）：{description}</translation>
    </message>
</context>
<context>
    <name>_OwnValueEditor</name>
    <message>
        <location filename="../committee.py" line="-75"/>
        <location line="+27"/>
        <source>— choose —</source>
        <translation>— 请选择 —</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>no</source>
        <translation>否</translation>
    </message>
</context>
<context>
    <name>_PlaceholderViewer</name>
    <message>
        <location filename="../reading.py" line="-163"/>
        <source>No case open</source>
        <translation>未打开病例</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Image viewer not available in this build.</source>
        <translation>此版本未包含图像查看器。</translation>
    </message>
</context>
<context>
    <name>run_app</name>
    <message>
        <location filename="../app.py" line="+98"/>
        <location line="+15"/>
        <source>ioreview</source>
        <translation>ioreview</translation>
    </message>
    <message>
        <location line="-14"/>
        <source>Cannot open the trial database {path}:
{error}</source>
        <translation>无法打开试验数据库 {path}：
{error}</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>There is no screen for the role &apos;{role}&apos; in this version.</source>
        <translation>此版本未提供角色“{role}”的界面。</translation>
    </message>
</context>
</TS>
