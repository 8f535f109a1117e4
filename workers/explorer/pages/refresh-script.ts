// The explorer's only script: every 10 s, while the tab is visible, it reads the summary JSON and
// updates the totals, the two tables and the dots. Without it the page is complete as served.
// Text goes in through textContent only: model names come from agents. `ft`, `cn`, `rad` and
// the model and dot labels repeat pages/format.ts and map/projection.ts.

export const REFRESH_SCRIPT = `(()=>{
const d=document,dots=d.getElementById('dots');if(!dots||!window.fetch)return;
const N=+dots.dataset.north,So=+dots.dataset.south,S='http://www.w3.org/2000/svg',nf=new Intl.NumberFormat('en-US'),n=x=>nf.format(x);
let names=null;try{names=new Intl.DisplayNames(['en'],{type:'region'})}catch(e){}
const cn=c=>{try{return(names&&names.of(c))||c}catch(e){return c}};
const ft=a=>{const[w,f='']=a.split('.');return w+'.'+f.replace(/0+$/,'').padEnd(2,'0')};
const r1=x=>Math.round(x*10)/10,rad=g=>r1(Math.min(9,2+1.2*Math.sqrt(Math.max(1,g))));
const set=(k,v)=>d.querySelectorAll('[data-stat="'+k+'"]').forEach(e=>{e.textContent=v});
function rows(id,list,cells){const tb=d.getElementById(id);if(!tb)return;
if(!list.length){const tr=d.createElement('tr'),td=d.createElement('td');td.colSpan=+tb.dataset.cols;td.textContent=tb.dataset.empty;tr.append(td);tb.replaceChildren(tr);return}
tb.replaceChildren(...list.map(x=>{const tr=d.createElement('tr');cells(x).forEach((v,i)=>{const c=d.createElement(i?'td':'th');if(i)c.className='n';else c.scope='row';c.textContent=v;tr.append(c)});return tr}))}
async function tick(){if(d.hidden)return;try{
const res=await fetch('/v1/network/summary',{headers:{accept:'application/json'}});if(!res.ok)return;const s=await res.json();
set('nodesOnline',n(s.nodes.online));set('nodesNote',n(s.nodes.offline)+' offline · '+n(s.nodes.simulatedOnline)+' simulated');
set('gpusOnline',n(s.gpus.online));set('gpusNote',s.models.length+' models · '+n(s.gpus.simulatedOnline)+' simulated');
rows('models-body',s.models,m=>[m.simulatedGpus?m.model+' ('+m.simulatedGpus+' simulated)':m.model,n(m.gpus),n(m.nodes),ft(m.medianPricePerGpuHour)]);
rows('countries-body',s.countries,c=>[cn(c.country),n(c.nodes),n(c.gpus)]);
dots.replaceChildren(...s.dots.map(([la,lo,g,sim,k])=>{const c=d.createElementNS(S,'circle'),t=d.createElementNS(S,'title');
c.setAttribute('class',sim?'dot-sim':'dot-real');c.setAttribute('cx',r1(lo+180));c.setAttribute('cy',r1(N-Math.max(So,Math.min(N,la))));c.setAttribute('r',rad(g));
t.textContent=n(k)+(k===1?' node, ':' nodes, ')+n(g)+' GPUs'+(sim?' (simulated)':'');c.append(t);return c}));
const u=d.getElementById('updated');if(u){u.dateTime=s.generatedAt;u.textContent=s.generatedAt.slice(0,10)+' '+s.generatedAt.slice(11,19)+' UTC'}
}catch(e){}}
setInterval(tick,10000);d.addEventListener('visibilitychange',tick);
})();`;
